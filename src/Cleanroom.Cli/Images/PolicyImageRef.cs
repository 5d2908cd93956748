using System.Text;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Cleanroom.Cli.Images;

/// <summary>
/// Where <c>sandbox.image.ref</c> sits in a policy file, so that <c>image bump-ref</c> can replace exactly that
/// scalar: the YAML event parser gives the value's start and end, and every other byte of the file — comments,
/// blank lines, indentation, quoting, line endings — is copied through unchanged. Block and flow style both work
/// because only the scalar's own span is replaced.
/// </summary>
internal sealed class PolicyImageRef
{
    private static readonly string[] KeyPath = ["sandbox", "image", "ref"];
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly byte[] _file;
    private readonly int _startByte;
    private readonly int _endByte;
    private readonly string _before;
    private readonly string _after;

    private PolicyImageRef(byte[] file, int startByte, int endByte, string before, string after, string value, bool isNull)
    {
        _file = file;
        _startByte = startByte;
        _endByte = endByte;
        _before = before;
        _after = after;
        Value = value;
        IsNull = isNull;
    }

    /// <summary>The reference the file holds now, as YAML reads it (quotes removed).</summary>
    public string Value { get; }

    /// <summary>The key is there without a value (<c>ref:</c>, <c>ref: ~</c>, <c>ref: ""</c>).</summary>
    public bool IsNull { get; }

    /// <summary>Finds the value in <paramref name="file"/>; null with a reason when it is absent or cannot be edited in place.</summary>
    public static PolicyImageRef? Find(byte[] file, out string problem)
    {
        ArgumentNullException.ThrowIfNull(file);
        // The parser would read a byte-order mark as part of the first key; it is kept as a plain prefix instead.
        var bom = file.AsSpan().StartsWith("\uFEFF"u8) ? 3 : 0;
        string text;
        try
        {
            text = StrictUtf8.GetString(file, bom, file.Length - bom);
        }
        catch (DecoderFallbackException)
        {
            problem = "the file is not UTF-8 text";
            return null;
        }

        if (Locate(text, out problem) is not { } scalar)
        {
            return null;
        }

        var start = (int)scalar.Start.Index;
        var end = (int)scalar.End.Index;
        var (before, after) = (scalar.Style, scalar.Value.Length == 0 && start == end) switch
        {
            (ScalarStyle.DoubleQuoted, _) => ("\"", "\""),
            (ScalarStyle.SingleQuoted, _) => ("'", "'"),
            // "ref:" with nothing after it: the new value needs the space a mapping value requires.
            (_, true) when start > 0 && text[start - 1] == ':' => (" ", ""),
            (_, true) when start > 0 && char.IsWhiteSpace(text[start - 1]) => ("", ""),
            (_, true) => (null, null),
            _ => ("", ""),
        };
        if (before is null || after is null)
        {
            problem = "sandbox.image.ref has no value to replace; write it as `ref: IMAGE`";
            return null;
        }

        var startByte = bom + Encoding.UTF8.GetByteCount(text.AsSpan(0, start));
        var endByte = startByte + Encoding.UTF8.GetByteCount(text.AsSpan(start, end - start));
        var isNull = scalar.Value.Length == 0 || (scalar.Style == ScalarStyle.Plain && scalar.Value is "~" or "null" or "Null" or "NULL");
        return new PolicyImageRef(file, startByte, endByte, before, after, scalar.Value, isNull);
    }

    /// <summary>The whole file with only the value replaced, in the quote style it had.</summary>
    public byte[] WithValue(string reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        // A parsed image reference never needs escaping in any style; anything else could change the YAML around it.
        if (reference.Length == 0 || !reference.All(c => char.IsAsciiLetterOrDigit(c) || "._-/:@".Contains(c, StringComparison.Ordinal)))
        {
            throw new ArgumentException($"'{reference}' cannot be written as a plain YAML scalar", nameof(reference));
        }

        var replacement = Encoding.UTF8.GetBytes(_before + reference + _after);
        return [.. _file.AsSpan(0, _startByte), .. replacement, .. _file.AsSpan(_endByte)];
    }

    private static Scalar? Locate(string text, out string problem)
    {
        const string Missing = "there is no sandbox.image.ref to bump; add `ref: IMAGE` under sandbox.image first";
        var open = new Stack<Frame>();
        try
        {
            var parser = new Parser(new StringReader(text));
            while (parser.MoveNext())
            {
                var current = parser.Current!;
                if (current is DocumentEnd)
                {
                    break;
                }

                if (current is MappingEnd or SequenceEnd)
                {
                    open.Pop();
                    continue;
                }

                if (current is not (Scalar or MappingStart or SequenceStart or AnchorAlias))
                {
                    continue;
                }

                var depth = MatchedDepth(open, current);
                if (depth == KeyPath.Length)
                {
                    return Target(current, out problem);
                }

                if (current is MappingStart or SequenceStart)
                {
                    open.Push(new Frame(current is MappingStart, current is MappingStart ? depth : -1));
                }
            }
        }
        catch (YamlException ex)
        {
            problem = $"the file is not valid YAML (line {ex.Start.Line}); `cleanroom policy validate` shows the error";
            return null;
        }

        problem = Missing;
        return null;
    }

    /// <summary>How many components of the key path lead to this node: -1 off the path, 0 for the document's root.</summary>
    private static int MatchedDepth(Stack<Frame> open, ParsingEvent node)
    {
        if (open.Count == 0)
        {
            return 0;
        }

        var parent = open.Peek();
        if (!parent.IsMapping)
        {
            return -1;
        }

        if (!parent.ExpectingValue)
        {
            parent.ExpectingValue = true;
            parent.KeyMatches = parent.Depth >= 0 && node is Scalar key && key.Value == KeyPath[parent.Depth];
            return -1;
        }

        parent.ExpectingValue = false;
        return parent.KeyMatches ? parent.Depth + 1 : -1;
    }

    private static Scalar? Target(ParsingEvent node, out string problem)
    {
        problem = node switch
        {
            Scalar s when !s.Anchor.IsEmpty || !s.Tag.IsEmpty =>
                "sandbox.image.ref carries a YAML anchor or tag; remove it so the value can be replaced in place",
            Scalar { Style: ScalarStyle.Literal or ScalarStyle.Folded } =>
                "sandbox.image.ref is a block scalar (| or >); write the reference on the same line as `ref:`",
            Scalar => string.Empty,
            AnchorAlias => "sandbox.image.ref is an alias (*name); write the reference itself there",
            _ => "sandbox.image.ref is a mapping or a list, not an image reference",
        };
        return problem.Length == 0 ? (Scalar)node : null;
    }

    /// <summary>An open mapping or list, and how much of the key path leads to it (-1: none of it).</summary>
    private sealed class Frame(bool isMapping, int depth)
    {
        public bool IsMapping { get; } = isMapping;

        public int Depth { get; } = depth;

        public bool ExpectingValue { get; set; }

        public bool KeyMatches { get; set; }
    }
}
