using Cleanroom.Policy.Parsing;
using Cleanroom.Policy.Text;

namespace Cleanroom.Policy.Schema;

/// <summary>
/// Outputs are restored into the sandbox from separate caches, so two outputs that are equal or nested would
/// restore over each other in an order-dependent way. Every such pair is an error at the later declaration.
/// </summary>
internal static class OutputOverlapChecker
{
    public static void Report(List<OutputClaim> outputs, SchemaReader reader)
    {
        for (var later = 1; later < outputs.Count; later++)
        {
            for (var earlier = 0; earlier < later; earlier++)
            {
                var a = outputs[earlier];
                var b = outputs[later];
                if (!PosixPath.IsSameOrUnder(a.Path, b.Path) && !PosixPath.IsSameOrUnder(b.Path, a.Path))
                {
                    continue;
                }

                var relation = a.Path == b.Path ? "is the same path as" : "overlaps";
                reader.Error(PolicyErrorKind.OverlappingOutput, b.Node, b.KeyPath,
                    $"output {b.Path} {relation} output {a.Path} of block {ScalarNode.Quote(a.BlockName)} (line {a.Node.Location.Line})",
                    "outputs that are unique and not nested inside each other");
                break;
            }
        }
    }
}
