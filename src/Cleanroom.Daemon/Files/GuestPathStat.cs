namespace Cleanroom.Daemon.Files;

/// <summary>What the guest's <c>stat</c> tool said about a path (validated; text escaped).</summary>
public sealed record GuestPathStat(string Path, string Type, uint Mode, long Size, DateTimeOffset ModifiedAt, uint Uid, uint Gid, string LinkTarget);
