namespace Cleanroom.GuestAgent.Exec;

/// <summary>What a path names, as far as running it is concerned.</summary>
internal enum FileKind
{
    Missing,
    Directory,
    NotExecutable,
    Executable,
}
