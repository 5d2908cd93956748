using Spectre.Console;
using Spectre.Console.Rendering;

namespace Cleanroom.Cli.Rendering;

/// <summary>
/// Bytes done out of the total, as <see cref="DownloadedColumn"/> shows them, but blank while a task has no size
/// yet (resolving, building): "0/1 byte" there would be a made-up number.
/// </summary>
internal sealed class KnownSizeColumn : ProgressColumn
{
    private readonly DownloadedColumn _bytes = new();

    public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
        task.IsIndeterminate ? Text.Empty : _bytes.Render(options, task, deltaTime);
}
