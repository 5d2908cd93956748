using Google.Protobuf;

namespace Cleanroom.Cli.Rendering;

/// <summary>
/// The one way every <c>--json</c> prints: the protobuf JSON mapping of the API message, one message per line,
/// so output matches what any cleanroom.v1 client would get.
/// </summary>
internal static class JsonOutput
{
    public static void Write(TextWriter output, IMessage message) => output.WriteLine(JsonFormatter.Default.Format(message));
}
