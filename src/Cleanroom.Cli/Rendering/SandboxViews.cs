using System.Globalization;
using Cleanroom.Api.V1;

namespace Cleanroom.Cli.Rendering;

/// <summary>How sandboxes read in <c>sandbox ls</c> and <c>sandbox inspect</c>.</summary>
internal static class SandboxViews
{
    public static readonly IReadOnlyList<string> TableHeaders = ["ID", "STATUS", "BACKEND", "CREATED", "IMAGE"];

    public static void WriteTable(TextWriter output, OutputStyle style, IEnumerable<Sandbox> sandboxes)
    {
        var rows = sandboxes
            .Select(s => (IReadOnlyList<Cell>)
            [
                s.SandboxId,
                new Cell(ApiText.Status(s.Status), ApiText.StatusColor(s.Status)),
                s.Backend,
                ApiText.Time(s.CreatedAt),
                s.ImageRef,
            ])
            .ToList();
        TableWriter.Write(output, style, TableHeaders, rows);
    }

    public static void WriteInspect(TextWriter output, Sandbox sandbox) => KeyValueWriter.Write(output,
    [
        ("sandbox_id", sandbox.SandboxId),
        ("status", ApiText.Status(sandbox.Status)),
        ("status_message", sandbox.StatusMessage),
        ("backend", sandbox.Backend),
        ("accelerator", sandbox.Accelerator),
        ("image_ref", sandbox.ImageRef),
        ("image_digest", sandbox.ImageDigest),
        ("policy_hash", sandbox.PolicyHash),
        ("vcpus", Number(sandbox.Vcpus)),
        ("memory_mib", Number(sandbox.MemoryMib)),
        ("created_at", ApiText.Time(sandbox.CreatedAt)),
        ("updated_at", ApiText.Time(sandbox.UpdatedAt)),
        ("last_execution_id", sandbox.LastExecutionId),
        ("active_execution_id", sandbox.ActiveExecutionId),
        ("boot_ms", Number(sandbox.BootMs)),
    ]);

    private static string Number(long value) => value == 0 ? "" : value.ToString(CultureInfo.InvariantCulture);
}
