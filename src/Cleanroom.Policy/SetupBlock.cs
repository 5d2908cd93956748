using System.Collections.Immutable;

namespace Cleanroom.Policy;

/// <summary>
/// One <c>sandbox.dependencies[]</c> or <c>sandbox.services[]</c> block: a command run at sandbox creation whose
/// declared outputs are cached, keyed by its declared inputs.
/// </summary>
public sealed class SetupBlock
{
    internal SetupBlock(
        string name,
        CommandSpec command,
        ImmutableArray<string> inputFiles,
        ImmutableSortedDictionary<string, string> environment,
        ImmutableArray<string> outputDirectories,
        ImmutableArray<string> outputFiles)
    {
        Name = name;
        Command = command;
        InputFiles = inputFiles;
        Environment = environment;
        OutputDirectories = outputDirectories;
        OutputFiles = outputFiles;
    }

    /// <summary>The block's name, unique across dependencies and services.</summary>
    public string Name { get; }

    /// <summary>What to run.</summary>
    public CommandSpec Command { get; }

    /// <summary>Repository-relative files or globs (<c>*</c>, <c>?</c>, <c>**</c>), normalised and sorted.</summary>
    public ImmutableArray<string> InputFiles { get; }

    /// <summary>Extra environment variables for the command.</summary>
    public ImmutableSortedDictionary<string, string> Environment { get; }

    /// <summary>
    /// Cached directories, sorted: absolute guest paths, or <c>~/…</c> for paths under the block's home directory.
    /// Relative paths in the file were resolved under the repository path.
    /// </summary>
    public ImmutableArray<string> OutputDirectories { get; }

    /// <summary>Cached files, in the same form as <see cref="OutputDirectories"/>.</summary>
    public ImmutableArray<string> OutputFiles { get; }
}
