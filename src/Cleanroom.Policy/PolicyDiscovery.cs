namespace Cleanroom.Policy;

/// <summary>
/// Finds the policy of a repository: <c>cleanroom.yaml</c> at its root, else <c>.buildkite/cleanroom.yaml</c>.
/// When both exist the root file wins and a warning names the ignored one, so a stale copy cannot go unnoticed.
/// An explicit file (<c>--policy</c>) skips the search. Discovery only says where the policy is; whether it may be
/// read (a regular file, no symbolic links) is <see cref="PolicyFileReader"/>'s decision. Only the given directory is searched; the caller decides
/// what the repository root is (<c>-c/--chdir</c> or the working directory).
/// </summary>
public static class PolicyDiscovery
{
    /// <summary>The policy file name at the repository root.</summary>
    public const string RootFileName = "cleanroom.yaml";

    /// <summary>The fallback location, relative to the repository root.</summary>
    public const string BuildkiteRelativePath = ".buildkite/cleanroom.yaml";

    /// <summary>Finds the policy for <paramref name="directory"/>, or uses <paramref name="policyFile"/> when given.</summary>
    public static PolicyDiscoveryResult Discover(string directory, string? policyFile = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var root = Path.GetFullPath(directory);
        if (policyFile is not null)
        {
            var explicitPath = Path.GetFullPath(policyFile, root);
            return Exists(explicitPath)
                ? new PolicyDiscoveryResult(explicitPath, root, [])
                : NotFound(root, explicitPath, $"the policy file {explicitPath} does not exist", "an existing policy file");
        }

        var rootFile = Path.Combine(root, RootFileName);
        var buildkiteFile = Path.Combine(root, BuildkiteRelativePath);
        var hasRoot = Exists(rootFile);
        var hasBuildkite = Exists(buildkiteFile);
        if (hasRoot && hasBuildkite)
        {
            var warning = new PolicyDiagnostic(DiagnosticSeverity.Warning, PolicyErrorKind.IgnoredPolicyFile,
                SourceLocation.StartOf(buildkiteFile), string.Empty,
                $"{BuildkiteRelativePath} is ignored because {RootFileName} exists at the repository root; delete one of them",
                "two policy files", "one policy file");
            return new PolicyDiscoveryResult(rootFile, root, [warning]);
        }

        if (hasRoot || hasBuildkite)
        {
            return new PolicyDiscoveryResult(hasRoot ? rootFile : buildkiteFile, root, []);
        }

        var misnamed = Path.Combine(root, "cleanroom.yml");
        var message = File.Exists(misnamed)
            ? $"no {RootFileName} in {root}; found cleanroom.yml, but the policy file must be named {RootFileName}"
            : $"no {RootFileName} or {BuildkiteRelativePath} in {root}; run `cleanroom policy init` to create one";
        return NotFound(root, rootFile, message, $"{RootFileName} or {BuildkiteRelativePath}");
    }

    /// <summary>
    /// Whether there is an entry of any kind at <paramref name="path"/>: a link (even a dangling one), a FIFO or a
    /// directory is found here too, so that reading it is refused with an error that says what it is, rather than
    /// discovery quietly falling back to the other location or reporting no policy.
    /// </summary>
    private static bool Exists(string path)
    {
        try
        {
            _ = File.GetAttributes(path);
            return true;
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // Something is there but cannot be looked at; reading it will say what is wrong.
            return true;
        }
    }

    private static PolicyDiscoveryResult NotFound(string root, string path, string message, string expected)
    {
        var error = new PolicyDiagnostic(DiagnosticSeverity.Error, PolicyErrorKind.PolicyNotFound,
            SourceLocation.StartOf(path), string.Empty, message, "no file", expected);
        return new PolicyDiscoveryResult(null, root, [error]);
    }
}
