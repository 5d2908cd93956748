using System.Collections.Immutable;

namespace Cleanroom.Policy;

/// <summary>
/// A command as the policy wrote it: a shell script (a YAML string, run with <c>sh -lc</c> so login profiles set up
/// PATH) or an argv list run directly without a shell.
/// </summary>
public sealed class CommandSpec : IEquatable<CommandSpec>
{
    private CommandSpec(string? script, ImmutableArray<string> argv)
    {
        Script = script;
        Argv = argv;
    }

    /// <summary>The script for a string command; null for an argv command.</summary>
    public string? Script { get; }

    /// <summary>The argv for a list command; empty for a script.</summary>
    public ImmutableArray<string> Argv { get; }

    /// <summary>True when this is a shell script.</summary>
    public bool IsShell => Script is not null;

    /// <summary>A shell command.</summary>
    public static CommandSpec Shell(string script)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(script);
        return new CommandSpec(script, []);
    }

    /// <summary>A direct argv command.</summary>
    public static CommandSpec Exec(IEnumerable<string> argv)
    {
        var args = argv.ToImmutableArray();
        if (args.IsEmpty || string.IsNullOrWhiteSpace(args[0]))
        {
            throw new ArgumentException("argv needs a program name", nameof(argv));
        }

        return new CommandSpec(null, args);
    }

    /// <summary>What to execute: <c>["sh", "-lc", script]</c> for a script, the argv otherwise.</summary>
    public ImmutableArray<string> ToProcessArgv() => IsShell ? ["sh", "-lc", Script!] : Argv;

    /// <inheritdoc/>
    public bool Equals(CommandSpec? other) =>
        other is not null && other.Script == Script && other.Argv.SequenceEqual(Argv);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as CommandSpec);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Script, Argv.Length);

    /// <inheritdoc/>
    public override string ToString() => Script ?? string.Join(' ', Argv);
}
