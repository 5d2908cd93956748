namespace Cleanroom.Cli.Commands;

/// <summary>The <c>--json</c> flag; output then goes through <see cref="Rendering.JsonOutput"/>.</summary>
internal sealed class JsonOption() : FlagOption("--json", "Print the API message as JSON (protobuf JSON mapping)");
