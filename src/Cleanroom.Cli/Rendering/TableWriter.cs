using Spectre.Console;
using Spectre.Console.Rendering;

namespace Cleanroom.Cli.Rendering;

/// <summary>A table cell: its text and an optional colour used only when colour is on.</summary>
internal readonly record struct Cell(string Text, Color? Color = null)
{
    public static implicit operator Cell(string text) => new(text);
}

/// <summary>Writes rows under headers: a Spectre table for a terminal, aligned plain columns for pipes and files.</summary>
internal static class TableWriter
{
    private const string PlainGap = "   ";

    public static void Write(TextWriter output, OutputStyle style, IReadOnlyList<string> headers, IReadOnlyList<IReadOnlyList<Cell>> rows)
    {
        if (style.Rich)
        {
            WriteRich(output, style, headers, rows);
        }
        else
        {
            WritePlain(output, headers, rows);
        }
    }

    /// <summary>Columns padded to their widest cell, no borders, no colour, no trailing spaces: easy to parse.</summary>
    public static void WritePlain(TextWriter output, IReadOnlyList<string> headers, IReadOnlyList<IReadOnlyList<Cell>> rows)
    {
        var lines = new List<IReadOnlyList<string>> { headers };
        lines.AddRange(rows.Select(row => (IReadOnlyList<string>)[.. row.Select(cell => cell.Text)]));
        var widths = headers.Select((_, column) => lines.Max(line => column < line.Count ? line[column].Length : 0)).ToList();
        foreach (var line in lines)
        {
            var cells = line.Select((text, column) => column == line.Count - 1 ? text : text.PadRight(widths[column]));
            output.WriteLine(string.Join(PlainGap, cells).TrimEnd());
        }
    }

    private static void WriteRich(TextWriter output, OutputStyle style, IReadOnlyList<string> headers, IReadOnlyList<IReadOnlyList<Cell>> rows)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = style.Color ? AnsiSupport.Yes : AnsiSupport.No,
            ColorSystem = style.Color ? ColorSystemSupport.Standard : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        if (style.Width > 0)
        {
            console.Profile.Width = style.Width;
        }

        var table = new Table().Border(TableBorder.Rounded);
        var headerStyle = style.Color ? new Style(decoration: Decoration.Bold) : Style.Plain;
        foreach (var header in headers)
        {
            table.AddColumn(new TableColumn(new Text(header, headerStyle)).NoWrap());
        }

        foreach (var row in rows)
        {
            // Text, not Markup: values such as image refs may contain '[' and must print literally.
            table.AddRow(row.Select(cell => (IRenderable)new Text(cell.Text, style.Color && cell.Color is { } c ? new Style(c) : Style.Plain)));
        }

        console.Write(table);
    }
}
