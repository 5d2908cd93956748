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
        ("start_mode", sandbox.StartMode),
        ("start_note", sandbox.StartNote),
        ("boot_phases", string.Join(", ", sandbox.BootPhases.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Name} {p.Milliseconds} ms")))),
        ("guest_address", sandbox.GuestAddress),
        ("dangerously_allow_all", sandbox.DangerouslyAllowAll ? "true" : ""),
        ("repository", sandbox.Workspace?.Repository ?? ""),
        ("repository_commit", sandbox.Workspace?.Commit ?? ""),
        ("workspace_path", sandbox.Workspace?.Path ?? ""),
        ("local_changes_copied", sandbox.Workspace is null ? "" : sandbox.Workspace.LocalChangesCopied ? "true" : "false"),
        ("skipped_submodules", string.Join(", ", sandbox.Workspace?.SkippedSubmodules ?? [])),
    ]);

    /// <summary>
    /// One line per event: time, what happened, and for a denial where it went. Destinations come from the guest;
    /// the daemon escaped them, and they are printed as they are.
    /// </summary>
    public static string EventLine(SandboxEvent e) => e.Kind switch
    {
        SandboxEventKind.EgressDenied => string.Create(CultureInfo.InvariantCulture,
            $"{ApiText.Time(e.OccurredAt)}  denied  {e.Protocol} {Destination(e)}  {e.ReasonCode}{(e.Message.Length > 0 ? "  (" + e.Message + ")" : "")}"),
        SandboxEventKind.Status => $"{ApiText.Time(e.OccurredAt)}  status  {ApiText.Status(e.Status)}{(e.Message.Length > 0 ? "  " + e.Message : "")}",
        _ => $"{ApiText.Time(e.OccurredAt)}  notice  {e.Message}",
    };

    private static string Destination(SandboxEvent e) =>
        e.Port == 0 ? e.Destination
        : e.Destination.Contains(':', StringComparison.Ordinal) ? $"[{e.Destination}]:{e.Port}"
        : string.Create(CultureInfo.InvariantCulture, $"{e.Destination}:{e.Port}");

    private static string Number(long value) => value == 0 ? "" : value.ToString(CultureInfo.InvariantCulture);
}
