namespace Cleanroom.Cli.Files;

/// <summary>One side of <c>cleanroom cp</c>: <c>SANDBOX_ID:PATH</c> in a sandbox, or a local path (<c>-</c> is stdin/stdout).</summary>
internal sealed record CpLocation(string? SandboxId, string Path)
{
    /// <summary>True for <c>SANDBOX_ID:PATH</c>.</summary>
    public bool IsRemote => SandboxId is not null;

    /// <summary>True for <c>-</c>: a tar on stdin (copy in) or stdout (copy out).</summary>
    public bool IsStandardStream => SandboxId is null && Path == "-";

    /// <summary>
    /// Splits an argument the way docker cp does: an absolute path or one starting with '.' is local (so
    /// <c>./a:b</c> names a local file with a colon), as is anything whose part before the first ':' is empty or holds
    /// a '/'; otherwise the part before the ':' is the sandbox id.
    /// </summary>
    public static CpLocation Parse(string argument)
    {
        ArgumentNullException.ThrowIfNull(argument);
        if (argument.StartsWith('/') || argument.StartsWith('.'))
        {
            return new CpLocation(null, argument);
        }

        var colon = argument.IndexOf(':', StringComparison.Ordinal);
        return colon <= 0 || argument.AsSpan(0, colon).Contains('/')
            ? new CpLocation(null, argument)
            : new CpLocation(argument[..colon], argument[(colon + 1)..]);
    }

    public override string ToString() => IsRemote ? $"{SandboxId}:{Path}" : Path;
}
