using System.Collections.Immutable;
using Cleanroom.Policy.Parsing;

namespace Cleanroom.Policy;

/// <summary>
/// The file-system edge of the engine: discovery, the size check before reading, reading, and compiling with the
/// repository's files as the input lookup. Everything it finds is reported as diagnostics; it does not throw for
/// missing or unreadable files.
/// </summary>
public static class PolicyLoader
{
    /// <summary>Discovers, reads and compiles the policy described by <paramref name="options"/>.</summary>
    public static PolicyLoadResult Load(PolicyLoadOptions? options = null)
    {
        options ??= new PolicyLoadOptions();
        var discovery = PolicyDiscovery.Discover(options.Directory ?? Environment.CurrentDirectory, options.PolicyFile);
        if (discovery.PolicyPath is not { } path)
        {
            return new PolicyLoadResult(null, discovery.RepositoryDirectory, null, discovery.Diagnostics);
        }

        var label = DisplayPath(path);
        var bytes = Read(path, label, out var readError);
        if (bytes is null)
        {
            return new PolicyLoadResult(path, discovery.RepositoryDirectory, null, [readError!, .. discovery.Diagnostics]);
        }

        var compileOptions = new PolicyCompileOptions
        {
            AllowDefaultAllow = options.AllowDefaultAllow,
            RepositoryFiles = options.CheckInputFiles ? new DirectoryRepositoryFiles(discovery.RepositoryDirectory) : null,
        };
        var result = PolicyCompiler.Compile(bytes, label, compileOptions);
        ImmutableArray<PolicyDiagnostic> diagnostics =
            [.. result.Errors, .. result.Warnings, .. discovery.Diagnostics];
        return new PolicyLoadResult(path, discovery.RepositoryDirectory, result.Policy, diagnostics);
    }

    /// <summary>How a policy path is shown in diagnostics: relative to the working directory when inside it.</summary>
    public static string DisplayPath(string path)
    {
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, path);
        return relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? path : relative;
    }

    private static byte[]? Read(string path, string label, out PolicyDiagnostic? error)
    {
        error = null;
        try
        {
            using var stream = File.OpenRead(path);

            // Checked before reading: a 2 GB file is refused without being loaded.
            var bag = new DiagnosticBag();
            if (!PolicySourceText.IsWithinLimit(stream.Length, label, bag))
            {
                error = bag.ToImmutable()[0];
                return null;
            }

            var bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
            return bytes;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            error = new PolicyDiagnostic(DiagnosticSeverity.Error, PolicyErrorKind.UnreadableFile, SourceLocation.StartOf(label),
                string.Empty, "the policy file cannot be read: " + exception.Message, "an unreadable file", "a readable file");
            return null;
        }
    }
}
