using System.Globalization;
using Cleanroom.Policy;
using Cleanroom.Policy.Text;

namespace Cleanroom.Cli.Policy;

/// <summary>The human-readable output of the policy commands.</summary>
internal static class PolicyReportText
{
    /// <summary>The policy path as shown to the user.</summary>
    public static string Source(PolicyLoadResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.SourcePath is { } path ? PolicyLoader.DisplayPath(path) : "(none)";
    }

    /// <summary>Every error and warning, then a one-line verdict.</summary>
    public static void WriteFailure(PolicyLoadResult result, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(output);
        foreach (var diagnostic in result.Diagnostics)
        {
            output.WriteLine(diagnostic.ToString());
        }

        var count = result.Errors.Count();
        output.WriteLine($"policy invalid: {Source(result)} ({count} {(count == 1 ? "error" : "errors")})");
    }

    /// <summary>Warnings only (for a valid policy).</summary>
    public static void WriteWarnings(PolicyLoadResult result, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(output);
        foreach (var warning in result.Warnings)
        {
            output.WriteLine(warning.ToString());
        }
    }

    /// <summary>One line per aspect of what the policy allows.</summary>
    public static void WriteSummary(CompiledPolicy policy, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(output);
        output.WriteLine($"image: {policy.Image.Reference}{(policy.Image.IsPinned ? string.Empty : " (not pinned to a digest)")}");
        output.WriteLine("resources: " + Resources(policy.Resources));
        output.WriteLine($"network: default {(policy.Network.Default == NetworkDefault.Allow ? "allow" : "deny")}, "
            + $"{Count(policy.Network.Allow.Length, "allow rule")}, {Count(policy.Network.Deny.Length, "deny rule")}");
        foreach (var rule in policy.Network.Allow)
        {
            output.WriteLine("  allow " + rule);
        }

        foreach (var rule in policy.Network.Deny)
        {
            output.WriteLine("  deny  " + rule);
        }

        output.WriteLine("docker: " + (policy.DockerRequired ? "required" : "not required"));
        var repository = policy.Repository;
        output.WriteLine(repository.Enabled
            ? $"repository: checked out at {repository.Path} from {repository.Remote}{(repository.Submodules ? " with submodules" : string.Empty)}"
            : "repository: not checked out");
        output.WriteLine("dependencies: " + Names(policy.Dependencies));
        output.WriteLine("services: " + Names(policy.Services));
        output.WriteLine("run before: " + (policy.RunBefore?.ToString() ?? "nothing"));
    }

    /// <summary>The full detail of every setup block (for <c>policy show</c>).</summary>
    public static void WriteBlocks(CompiledPolicy policy, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(output);
        foreach (var (kind, group) in new[] { ("dependency", policy.Dependencies), ("service", policy.Services) })
        {
            foreach (var block in group.Blocks)
            {
                output.WriteLine($"{kind} {block.Name}:");
                output.WriteLine("  command: " + (block.Command.IsShell ? block.Command.Script!.TrimEnd() : "[" + string.Join(", ", block.Command.Argv) + "]"));
                output.WriteLine("  inputs: " + List(block.InputFiles));
                output.WriteLine("  env: " + List(block.Environment.Select(e => e.Key + "=" + e.Value)));
                output.WriteLine("  output dirs: " + List(block.OutputDirectories));
                output.WriteLine("  output files: " + List(block.OutputFiles));
            }
        }
    }

    private static string Resources(ResourceFloors floors)
    {
        var parts = new List<string>();
        if (floors.Vcpus is { } vcpus)
        {
            parts.Add("vcpus " + vcpus.ToString(CultureInfo.InvariantCulture));
        }

        if (floors.MemoryBytes is { } memory)
        {
            parts.Add("memory " + ByteSize.Format(memory));
        }

        if (floors.DiskBytes is { } disk)
        {
            parts.Add("disk " + ByteSize.Format(disk));
        }

        return parts.Count == 0 ? "host defaults" : "at least " + string.Join(", ", parts);
    }

    private static string Names(SetupBlockGroup group) => group.Blocks.IsEmpty
        ? "none"
        : string.Join(", ", group.Blocks.Select(b => b.Name)) + (group.Reuse == CacheReuse.Portable ? " (portable)" : string.Empty);

    private static string Count(int count, string noun) =>
        count.ToString(CultureInfo.InvariantCulture) + " " + noun + (count == 1 ? string.Empty : "s");

    private static string List(IEnumerable<string> items)
    {
        var text = string.Join(", ", items);
        return text.Length == 0 ? "none" : text;
    }
}
