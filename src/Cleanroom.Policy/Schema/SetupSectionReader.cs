using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Cleanroom.Policy.Parsing;

namespace Cleanroom.Policy.Schema;

/// <summary>
/// Reads <c>sandbox.dependencies</c> and <c>sandbox.services</c>. One instance reads both groups, because block
/// names must be unique and outputs must not overlap across the two.
/// </summary>
internal sealed partial class SetupSectionReader(SchemaReader reader, PolicyCompileOptions options, string repositoryPath)
{
    private const string BlockExpected = "a block with name, command, and optionally inputs, env and outputs";

    private readonly Dictionary<string, YamlNode> _names = new(StringComparer.Ordinal);
    private readonly List<OutputClaim> _outputs = [];

    /// <summary>A list of blocks, or <c>{reuse: exact|portable, blocks: [...]}</c>.</summary>
    public SetupBlockGroup ReadGroup(YamlNode node, KeyPath path)
    {
        if (node is SequenceNode sequence)
        {
            return new SetupBlockGroup(CacheReuse.Exact, ReadBlocks(sequence, path, CacheReuse.Exact));
        }

        if (node is MappingNode { } mapping && mapping.Entries.Any(e => e.Key.Value == "docker"))
        {
            var docker = mapping.Entries.First(e => e.Key.Value == "docker");
            reader.Diagnostics.Error(PolicyErrorKind.UnknownKey, docker.Key.Location, path.Key("docker").ToString(),
                "sandbox.services.docker has moved to sandbox.docker; services is now a list of service blocks",
                "key \"docker\"", "sandbox: {docker: {required: true}}");
            return SetupBlockGroup.Empty;
        }

        var group = reader.Mapping(node, path, "a list of blocks, or {reuse: exact|portable, blocks: [...]}");
        if (group is null)
        {
            return SetupBlockGroup.Empty;
        }

        var keys = reader.Keys(group, path, "reuse", "blocks");
        var reuse = keys.TryGetValue("reuse", out var r) && reader.Word(r.Value, path.Key("reuse"), "exact", "portable") == "portable"
            ? CacheReuse.Portable
            : CacheReuse.Exact;
        if (!keys.TryGetValue("blocks", out var blocksEntry))
        {
            reader.Missing(group, path, "blocks", "blocks: [ {name, command, ...} ]");
            return SetupBlockGroup.Empty;
        }

        var blocks = reader.Sequence(blocksEntry.Value, path.Key("blocks"), "a list of blocks");
        return blocks is null
            ? SetupBlockGroup.Empty
            : new SetupBlockGroup(reuse, ReadBlocks(blocks, path.Key("blocks"), reuse));
    }

    /// <summary>Reports outputs that are equal or nested, across every block read so far.</summary>
    public void CheckOutputsDoNotOverlap() => OutputOverlapChecker.Report(_outputs, reader);

    private ImmutableArray<SetupBlock> ReadBlocks(SequenceNode sequence, KeyPath path, CacheReuse reuse)
    {
        var blocks = ImmutableArray.CreateBuilder<SetupBlock>();
        for (var i = 0; i < sequence.Items.Length; i++)
        {
            if (ReadBlock(sequence.Items[i], path.Index(i), reuse) is { } block)
            {
                blocks.Add(block);
            }
        }

        return blocks.ToImmutable();
    }

    private SetupBlock? ReadBlock(YamlNode node, KeyPath path, CacheReuse reuse)
    {
        var mapping = reader.Mapping(node, path, BlockExpected);
        if (mapping is null)
        {
            return null;
        }

        var keys = reader.Keys(mapping, path, "name", "command", "inputs", "env", "outputs");
        var name = keys.TryGetValue("name", out var n) ? ReadName(n.Value, path.Key("name")) : MissingValue<string>(mapping, path, "name", "name: node");
        var command = keys.TryGetValue("command", out var c)
            ? CommandReader.Read(c.Value, path.Key("command"), reader)
            : MissingValue<CommandSpec>(mapping, path, "command", "command: npm ci");
        var inputs = keys.TryGetValue("inputs", out var i) ? ReadInputs(i.Value, path.Key("inputs")) : [];
        var env = keys.TryGetValue("env", out var e)
            ? EnvironmentReader.Read(e.Value, path.Key("env"), reader)
            : ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal);
        var (dirs, files) = keys.TryGetValue("outputs", out var o) ? ReadOutputs(o.Value, path.Key("outputs"), name ?? "?") : ([], []);

        if (reuse == CacheReuse.Portable && inputs.IsEmpty && name is not null)
        {
            reader.Error(PolicyErrorKind.PortableNeedsInputs, mapping, path,
                "with reuse: portable, a block is keyed only by its inputs, so it needs at least one",
                "inputs: {files: [lockfile]}");
        }

        return name is null || command is null ? null : new SetupBlock(name, command, inputs, env, dirs, files);
    }

    private T? MissingValue<T>(MappingNode mapping, KeyPath path, string key, string expected)
        where T : class
    {
        reader.Missing(mapping, path, key, expected);
        return null;
    }

    private string? ReadName(YamlNode node, KeyPath path)
    {
        const string expected = "1-63 letters, digits, '.', '_' or '-', starting with a letter or digit";
        var name = reader.String(node, path, expected);
        if (name is null)
        {
            return null;
        }

        if (!NamePattern().IsMatch(name))
        {
            reader.Error(PolicyErrorKind.InvalidBlockName, node, path, "the block name is not valid", expected);
            return null;
        }

        if (_names.TryGetValue(name, out var first))
        {
            reader.Error(PolicyErrorKind.DuplicateBlockName, node, path,
                $"another block is already named {ScalarNode.Quote(name)} (line {first.Location.Line}); names are unique across dependencies and services",
                "a unique name");
            return null;
        }

        _names[name] = node;
        return name;
    }

    private ImmutableArray<string> ReadInputs(YamlNode node, KeyPath path)
    {
        var mapping = reader.Mapping(node, path, "inputs: {files: [package.json, package-lock.json]}");
        if (mapping is null)
        {
            return [];
        }

        var keys = reader.Keys(mapping, path, "files");
        if (!keys.TryGetValue("files", out var files))
        {
            return [];
        }

        var filesPath = path.Key("files");
        var list = reader.Sequence(files.Value, filesPath, "a list of repository-relative files or globs");
        if (list is null)
        {
            return [];
        }

        var patterns = new SortedSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < list.Items.Length; i++)
        {
            if (InputPatternReader.Read(list.Items[i], filesPath.Index(i), reader, options.RepositoryFiles) is { } pattern)
            {
                patterns.Add(pattern);
            }
        }

        return [.. patterns];
    }

    private (ImmutableArray<string> Dirs, ImmutableArray<string> Files) ReadOutputs(YamlNode node, KeyPath path, string blockName)
    {
        var mapping = reader.Mapping(node, path, "outputs: {dirs: [node_modules], files: [...]}");
        if (mapping is null)
        {
            return ([], []);
        }

        var keys = reader.Keys(mapping, path, "dirs", "files");
        var dirs = keys.TryGetValue("dirs", out var d) ? ReadOutputList(d.Value, path.Key("dirs"), blockName) : [];
        var files = keys.TryGetValue("files", out var f) ? ReadOutputList(f.Value, path.Key("files"), blockName) : [];
        return (dirs, files);
    }

    private ImmutableArray<string> ReadOutputList(YamlNode node, KeyPath path, string blockName)
    {
        var list = reader.Sequence(node, path, "a list of paths");
        if (list is null)
        {
            return [];
        }

        var paths = new List<string>();
        for (var i = 0; i < list.Items.Length; i++)
        {
            var item = list.Items[i];
            if (OutputPathReader.Read(item, path.Index(i), reader, repositoryPath) is { } output)
            {
                paths.Add(output);
                _outputs.Add(new OutputClaim(output, item, path.Index(i), blockName));
            }
        }

        return [.. paths.Order(StringComparer.Ordinal)];
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
