namespace Cleanroom.Cli.Rendering;

/// <summary>How human output looks: a bordered, coloured table on a terminal, plain aligned text elsewhere.</summary>
internal sealed record OutputStyle(bool Rich, bool Color, int Width)
{
    public static OutputStyle Plain { get; } = new(Rich: false, Color: false, Width: 0);

    /// <summary>
    /// Rich when stdout is a terminal. Colour follows the usual conventions: NO_COLOR (any value) turns it off,
    /// CLICOLOR=0 too; CLICOLOR_FORCE (non-zero) turns it on even without a terminal.
    /// </summary>
    public static OutputStyle For(CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var force = context.Environment("CLICOLOR_FORCE") is { Length: > 0 } f && f != "0";
        var noColor = context.Environment("NO_COLOR") is { Length: > 0 } || context.Environment("CLICOLOR") == "0";
        var color = !noColor && (force || context.StdoutIsTerminal);
        return new OutputStyle(context.StdoutIsTerminal, color, context.TerminalColumns);
    }
}
