using Cleanroom.Policy;

namespace Cleanroom.Cli.Policy;

/// <summary>
/// <c>cleanroom policy init [-c DIR] [--path FILE] [--force] [--image REF]</c>: writes the commented starter
/// policy. Refuses to overwrite an existing policy (either discovery location) without <c>--force</c>.
/// </summary>
internal static class PolicyInitCommand
{
    /// <summary>Runs the command, writing to <paramref name="stdout"/> and <paramref name="stderr"/>.</summary>
    public static int Run(PolicyInitOptions options, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        if (PolicyCommandInput.CheckUsage(options.Directory, null, stderr) is { } usage)
        {
            return usage;
        }

        var directory = Path.GetFullPath(options.Directory ?? Environment.CurrentDirectory);
        var target = Path.GetFullPath(options.Path ?? PolicyDiscovery.RootFileName, directory);
        var existing = options.Path is not null
            ? (File.Exists(target) ? target : null)
            : PolicyDiscovery.Discover(directory).PolicyPath;
        if (existing is not null && !options.Force)
        {
            stderr.WriteLine($"error: {PolicyLoader.DisplayPath(existing)} already exists; use --force to overwrite it");
            return PolicyExitCodes.Invalid;
        }

        var text = StarterPolicy.Render(options.ImageRef);
        var check = PolicyCompiler.Compile(text, target);
        if (!check.IsValid)
        {
            // Only a malformed --image can get here: the starter itself is covered by tests.
            foreach (var error in check.Errors)
            {
                stderr.WriteLine(error.ToString());
            }

            return PolicyExitCodes.Usage;
        }

        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.WriteAllText(target, text);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"error: cannot write {target}: {exception.Message}");
            return PolicyExitCodes.Invalid;
        }

        stdout.WriteLine("policy written: " + PolicyLoader.DisplayPath(target));
        foreach (var warning in check.Warnings)
        {
            stderr.WriteLine(warning.ToString());
        }

        return PolicyExitCodes.Valid;
    }
}
