using System.Collections.Immutable;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Cleanroom.Policy.Parsing;

/// <summary>
/// Turns YAML text into a <see cref="YamlNode"/> tree, one event at a time with an explicit stack, so that deep
/// nesting cannot overflow the call stack. Along the way it enforces what YamlDotNet's parser leaves to its
/// callers: one document, unique scalar keys, known tags, bounded depth, and a bounded node count in which every
/// alias counts as a full copy of its anchor (that is what defuses "billion laughs" documents).
/// </summary>
internal sealed class YamlTreeReader
{
    private const string StringTag = "tag:yaml.org,2002:str";

    private static readonly HashSet<string> PlainTags = new(StringComparer.Ordinal)
    {
        "tag:yaml.org,2002:null",
        "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
    };

    private readonly string _file;
    private readonly DiagnosticBag _diagnostics;
    private readonly Dictionary<string, YamlNode> _anchors = new(StringComparer.Ordinal);
    private readonly Stack<CollectionFrame> _open = new();
    private long _nodeCount;
    private YamlNode? _root;
    private SourceLocation _lastSeen;

    private YamlTreeReader(string file, DiagnosticBag diagnostics)
    {
        _file = file;
        _diagnostics = diagnostics;
        _lastSeen = SourceLocation.StartOf(file);
    }

    /// <summary>Parses <paramref name="text"/>; returns null (with errors in the bag) when there is no usable tree.</summary>
    public static YamlNode? Read(string text, string file, DiagnosticBag diagnostics) =>
        new YamlTreeReader(file, diagnostics).ReadDocument(text);

    private YamlNode? ReadDocument(string text)
    {
        var documents = 0;
        try
        {
            var parser = new Parser(new StringReader(text));
            while (parser.MoveNext())
            {
                var current = parser.Current!;
                _lastSeen = At(current.Start);
                switch (current)
                {
                    case DocumentStart start:
                        documents++;
                        if (documents > 1)
                        {
                            _diagnostics.Error(PolicyErrorKind.MultipleDocuments, At(start.Start), string.Empty,
                                "a policy file holds exactly one YAML document", "a second document", "one document");
                            return null;
                        }

                        break;
                    case Scalar scalar:
                        Add(ReadScalar(scalar), scalar.Anchor);
                        break;
                    case SequenceStart sequence:
                        Open(new CollectionFrame(At(sequence.Start), sequence.Anchor, isMapping: false, ChildPath()));
                        break;
                    case MappingStart mapping:
                        Open(new CollectionFrame(At(mapping.Start), mapping.Anchor, isMapping: true, ChildPath()));
                        break;
                    case SequenceEnd or MappingEnd:
                        var frame = _open.Pop();
                        Add(frame.Build(), frame.Anchor);
                        break;
                    case AnchorAlias alias:
                        AddAlias(alias);
                        break;
                    default:
                        break;
                }
            }
        }
        catch (YamlException exception)
        {
            var at = exception.Start.Line > 0 ? At(exception.Start) : _lastSeen;
            _diagnostics.Error(PolicyErrorKind.SyntaxError, at, ChildPath().ToString(),
                "the file is not valid YAML: " + CleanMessage(exception.Message), "malformed YAML", "well-formed YAML");
            return null;
        }
        catch (LimitExceededException exception)
        {
            _diagnostics.Error(exception.Kind, exception.Location, exception.Path, exception.Message, exception.Found, exception.Expected);
            return null;
        }
#pragma warning disable CA1031 // A parser bug on hostile input must still end as a positioned error, never a crash.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            _diagnostics.Error(PolicyErrorKind.SyntaxError, _lastSeen, ChildPath().ToString(),
                "the YAML parser gave up: " + CleanMessage(exception.Message), "unparseable text", "well-formed YAML");
            return null;
        }

        if (_root is null)
        {
            _diagnostics.Error(PolicyErrorKind.EmptyDocument, SourceLocation.StartOf(_file), string.Empty,
                "the policy file is empty", "no YAML document", "a mapping that starts with version: 1");
        }

        return _root;
    }

    private ScalarNode ReadScalar(Scalar scalar)
    {
        var location = At(scalar.Start);
        var plain = scalar.Style == ScalarStyle.Plain;
        if (!scalar.Tag.IsEmpty)
        {
            var tag = scalar.Tag.Value;
            if (tag == StringTag || tag == "!")
            {
                plain = false;
            }
            else if (PlainTags.Contains(tag))
            {
                plain = true;
            }
            else
            {
                _diagnostics.Error(PolicyErrorKind.UnsupportedTag, location, ChildPath().ToString(),
                    "custom YAML tags are not supported", "tag " + ScalarNode.Quote(tag), "an untagged value");
            }
        }

        return new ScalarNode(location, scalar.Value, plain);
    }

    private void Open(CollectionFrame frame)
    {
        if (_open.Count >= ParserLimits.MaxDepth)
        {
            throw new LimitExceededException(PolicyErrorKind.NestingTooDeep, frame.Location, frame.Path.ToString(),
                $"lists and mappings are nested more than {ParserLimits.MaxDepth} levels deep",
                $"nesting deeper than {ParserLimits.MaxDepth}", $"at most {ParserLimits.MaxDepth} levels");
        }

        Count(1, frame.Location, viaAlias: false);
        _open.Push(frame);
    }

    private void AddAlias(AnchorAlias alias)
    {
        var location = At(alias.Start);
        if (!_anchors.TryGetValue(alias.Value.Value, out var target))
        {
            throw new LimitExceededException(PolicyErrorKind.SyntaxError, location, ChildPath().ToString(),
                "the alias refers to an anchor that is not defined before it",
                "alias *" + alias.Value.Value, "an alias to an earlier &anchor");
        }

        // The tree shares the anchored node, but the budget counts a full copy: that is what a consumer
        // expanding the document would pay, and it stops exponential alias chains after a few steps.
        Count(target.Weight, location, viaAlias: true);
        Attach(target);
    }

    private void Add(YamlNode node, AnchorName anchor)
    {
        // Collections were counted when they opened.
        if (node is ScalarNode)
        {
            Count(1, node.Location, viaAlias: false);
        }

        if (!anchor.IsEmpty)
        {
            _anchors[anchor.Value] = node;
        }

        Attach(node);
    }

    private void Count(long weight, SourceLocation location, bool viaAlias)
    {
        _nodeCount = _nodeCount > ParserLimits.MaxNodes ? _nodeCount : _nodeCount + Math.Min(weight, ParserLimits.MaxNodes + 1);
        if (_nodeCount <= ParserLimits.MaxNodes)
        {
            return;
        }

        var why = viaAlias ? "YAML aliases expand" : "the document expands";
        throw new LimitExceededException(PolicyErrorKind.TooManyNodes, location, ChildPath().ToString(),
            $"{why} to more than {ParserLimits.MaxNodes} nodes; aliases that multiply (an alias bomb) are refused",
            $"more than {ParserLimits.MaxNodes} nodes", $"at most {ParserLimits.MaxNodes} nodes, counting each alias expansion");
    }

    private void Attach(YamlNode node)
    {
        if (_open.Count == 0)
        {
            _root ??= node;
            return;
        }

        var parent = _open.Peek();
        if (!parent.IsMapping)
        {
            parent.Items.Add(node);
            parent.Weight = Saturate(parent.Weight + node.Weight);
            return;
        }

        parent.Weight = Saturate(parent.Weight + node.Weight);
        if (!parent.ExpectingValue)
        {
            parent.ExpectingValue = true;
            parent.PendingKey = node as ScalarNode;
            if (parent.PendingKey is null)
            {
                _diagnostics.Error(PolicyErrorKind.ComplexKey, node.Location, parent.Path.ToString(),
                    "mapping keys must be plain scalars", node.Describe() + " as a key", "a key such as 'sandbox'");
            }

            return;
        }

        parent.ExpectingValue = false;
        var key = parent.PendingKey;
        parent.PendingKey = null;
        if (key is null)
        {
            return;
        }

        if (parent.FirstLineOfKey.TryGetValue(key.Value, out var firstLine))
        {
            _diagnostics.Error(PolicyErrorKind.DuplicateKey, key.Location, parent.Path.Key(key.Value).ToString(),
                $"key {ScalarNode.Quote(key.Value)} appears more than once in this mapping (first on line {firstLine})",
                "a second " + ScalarNode.Quote(key.Value), "each key once");
            return;
        }

        parent.FirstLineOfKey[key.Value] = key.Location.Line;
        parent.Entries.Add(new MappingEntry(key, node));
    }

    /// <summary>The key path of the node about to be attached, for errors raised while reading it.</summary>
    private KeyPath ChildPath()
    {
        if (_open.Count == 0)
        {
            return KeyPath.Root;
        }

        var parent = _open.Peek();
        if (!parent.IsMapping)
        {
            return parent.Path.Index(parent.Items.Count);
        }

        return parent.ExpectingValue && parent.PendingKey is { } key ? parent.Path.Key(key.Value) : parent.Path;
    }

    private SourceLocation At(Mark mark) => new(_file, (int)Math.Max(1, mark.Line), (int)Math.Max(1, mark.Column));

    private static long Saturate(long value) => Math.Min(value, ParserLimits.MaxNodes * 4);

    private static string CleanMessage(string message)
    {
        // YamlDotNet prefixes messages with "(Line: 3, Col: 5, Idx: 20) - (…): "; the location is reported separately.
        var cut = message.LastIndexOf("): ", StringComparison.Ordinal);
        var text = cut >= 0 && message.StartsWith("(Line:", StringComparison.Ordinal) ? message[(cut + 3)..] : message;
        return text.Trim().TrimEnd('.');
    }

    /// <summary>A list or mapping whose children are still being read.</summary>
    private sealed class CollectionFrame(SourceLocation location, AnchorName anchor, bool isMapping, KeyPath path)
    {
        public KeyPath Path { get; } = path;

        public SourceLocation Location { get; } = location;

        public AnchorName Anchor { get; } = anchor;

        public bool IsMapping { get; } = isMapping;

        public List<YamlNode> Items { get; } = [];

        public List<MappingEntry> Entries { get; } = [];

        public Dictionary<string, int> FirstLineOfKey { get; } = new(StringComparer.Ordinal);

        public bool ExpectingValue { get; set; }

        public ScalarNode? PendingKey { get; set; }

        public long Weight { get; set; } = 1;

        public YamlNode Build() => IsMapping
            ? new MappingNode(Location, [.. Entries], Weight)
            : new SequenceNode(Location, [.. Items], Weight);
    }
}
