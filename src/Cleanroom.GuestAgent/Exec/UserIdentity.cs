namespace Cleanroom.GuestAgent.Exec;

/// <summary>The credentials a process runs with, and the home directory used when HOME is not given.</summary>
internal sealed record UserIdentity(uint Uid, uint Gid, string Home)
{
    public static readonly UserIdentity Root = new(0, 0, "/root");

    /// <summary>Root needs no switching: the agent already runs as root.</summary>
    public bool IsRoot => Uid == 0 && Gid == 0;
}
