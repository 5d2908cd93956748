using Spectre.Console;

namespace Cleanroom.Cli.Rendering;

/// <summary>
/// Live progress on stderr. Only used once the caller knows stderr is a terminal: stdout may be a pipe (exec's
/// stdout is the command's own), and progress must never end up in it.
/// </summary>
internal static class StderrConsole
{
    /// <summary>A progress display that redraws in place and disappears when done, leaving the results below it.</summary>
    public static Progress Progress(CliContext context, params ProgressColumn[] columns)
    {
        ArgumentNullException.ThrowIfNull(context);
        var noColor = context.Environment("NO_COLOR") is { Length: > 0 } || context.Environment("CLICOLOR") == "0";
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(context.Error),
            // Redrawing needs cursor movement even when colour is off.
            Ansi = AnsiSupport.Yes,
            ColorSystem = noColor ? ColorSystemSupport.NoColors : ColorSystemSupport.Standard,
            Interactive = InteractionSupport.Yes,
            // We already know stderr is a terminal; Spectre's CI detection must not turn the display off again.
            Enrichment = new ProfileEnrichment { UseDefaultEnrichers = false },
        });
        if (context.StderrColumns > 0)
        {
            console.Profile.Width = context.StderrColumns;
        }

        return console.Progress().AutoClear(true).HideCompleted(false).Columns(columns);
    }

    public static TaskDescriptionColumn Description() => new() { Alignment = Justify.Left };
}
