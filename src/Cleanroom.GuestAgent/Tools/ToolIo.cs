namespace Cleanroom.GuestAgent.Tools;

/// <summary>A tool's standard streams: binary stdin and stdout, text stderr (one line per error or warning).</summary>
internal sealed record ToolIo(Stream Input, Stream Output, TextWriter Error);
