namespace Cleanroom.GuestAgent.Exec;

/// <summary>The few filesystem questions exec planning asks; a seam so planning is testable as a pure function.</summary>
internal interface IGuestFileSystem
{
    FileKind Probe(string path);

    bool IsDirectory(string path);

    /// <summary>The file's text, or null when it cannot be read.</summary>
    string? ReadText(string path);
}
