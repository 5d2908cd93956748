namespace Cleanroom.Daemon.Tests.Fakes;

/// <summary>One request to reap leftovers: the work root, and the names of the work directories in it at that moment.</summary>
internal sealed record LeftoverReap(string WorkRoot, IReadOnlyList<string> WorkDirsPresent);
