using System.Collections.Immutable;
using Cleanroom.Policy.Parsing;

namespace Cleanroom.Policy;

/// <summary>
/// The file-system edge of the engine: discovery, the safe read (<see cref="PolicyFileReader"/>: a regular file
/// only, size checked first), and compiling with the repository's files as the input lookup. Everything it finds
/// is reported as diagnostics; it does not throw for missing, refused or unreadable files.
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
        var bytes = PolicyFileReader.Read(path, discovery.RepositoryDirectory, out var readError);
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
}
