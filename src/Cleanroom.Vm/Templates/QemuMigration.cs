using System.Buffers;
using System.Net.Sockets;
using System.Text.Json;
using Cleanroom.HostProcesses;
using Cleanroom.Vm.Qemu.Qmp;

namespace Cleanroom.Vm.Templates;

/// <summary>
/// Saving a template VM's device state and restoring it into a clone, over QMP. RAM never enters the stream:
/// with <c>x-ignore-shared</c> on both sides, the template's shared memory file is the RAM. No <c>exec:</c> URIs (the
/// seccomp sandbox forbids QEMU to fork): the state leaves through a unix socket the daemon listens on and comes back
/// through a descriptor the clone inherited.
/// </summary>
internal static class QemuMigration
{
    /// <summary>Device state only (RAM excluded) is tens of kilobytes; anything near this is not a state file.</summary>
    public const long MaxStateBytes = 64L * 1024 * 1024;

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// Pauses the VM and writes its device state to <paramref name="statePath"/> (atomically: a temp file renamed
    /// once QEMU reports the migration completed). The VM stays paused; the caller quits it.
    /// </summary>
    public static async Task SaveAsync(QmpClient qmp, string socketPath, (int Uid, int Gid)? owner, string statePath, TimeSpan timeout, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        File.Delete(socketPath);
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        listener.Listen(1);
        if (owner is var (uid, gid))
        {
            // QEMU runs as the VM's uid and needs write permission on the socket to connect.
            Posix.ChangeOwner(socketPath, uid, gid);
        }

        var temp = statePath + ".part";
        try
        {
            await IgnoreSharedAsync(qmp, deadline.Token);
            await qmp.ExecuteAsync("stop", deadline.Token);
            await qmp.ExecuteAsync("migrate", QmpClient.Arguments(w => w.WriteString("uri", "unix:" + socketPath)), deadline.Token);
            using (var connection = await AcceptOrFailAsync(listener, qmp, deadline.Token))
            await using (var output = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                await CopyBoundedAsync(connection, output, deadline.Token);
                output.Flush(flushToDisk: true);
            }

            await WaitForMigrationAsync(qmp, deadline.Token);
            File.Move(temp, statePath, overwrite: false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            throw new VmException($"saving the template's device state took longer than {timeout.TotalSeconds:0} s.");
        }
        finally
        {
            File.Delete(temp);
            File.Delete(socketPath);
        }
    }

    /// <summary>
    /// Loads the device state from the inherited descriptor <paramref name="stateFd"/> into a VM started with
    /// <c>-incoming defer</c>, then lets it run. Throws <see cref="VmException"/> when the load fails (QEMU exits).
    /// </summary>
    public static async Task RestoreAsync(QmpClient qmp, int stateFd, Task<int> exited, TimeSpan timeout, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        try
        {
            await IgnoreSharedAsync(qmp, deadline.Token);
            await qmp.ExecuteAsync("migrate-incoming", QmpClient.Arguments(w => w.WriteString("uri", "fd:" + stateFd.ToString(System.Globalization.CultureInfo.InvariantCulture))), deadline.Token);
            while (true)
            {
                var status = await qmp.QueryStatusAsync(deadline.Token);
                if (status.Status == "paused")
                {
                    break;
                }

                if (status.Status != "inmigrate")
                {
                    throw new VmException($"restoring the template left the VM '{status.Status}', not paused.");
                }

                await Task.WhenAny(Task.Delay(PollInterval, deadline.Token), exited);
                if (exited.IsCompleted)
                {
                    throw new VmException($"QEMU exited with {ExitStatus.Describe(await exited)} while loading the template's state.");
                }

                deadline.Token.ThrowIfCancellationRequested();
            }

            await qmp.ExecuteAsync("cont", deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            throw new VmException($"restoring the template took longer than {timeout.TotalSeconds:0} s.");
        }
        catch (Exception ex) when (ex is QmpException or IOException)
        {
            // A refused state usually kills QEMU: wait briefly so the error can say how it ended.
            await Task.WhenAny(exited, Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None));
            throw exited.IsCompleted
                ? new VmException($"QEMU exited with {ExitStatus.Describe(await exited)} while loading the template's state.", ex)
                : new VmException($"loading the template's state failed: {ex.Message}", ex);
        }
    }

    private static Task<JsonElement> IgnoreSharedAsync(QmpClient qmp, CancellationToken ct) =>
        qmp.ExecuteAsync(
            "migrate-set-capabilities",
            QmpClient.Arguments(w =>
            {
                w.WriteStartArray("capabilities");
                w.WriteStartObject();
                w.WriteString("capability", "x-ignore-shared");
                w.WriteBoolean("state", true);
                w.WriteEndObject();
                w.WriteEndArray();
            }),
            ct);

    /// <summary>The migration's connection; a migration that fails before connecting is reported by QMP, not by the socket.</summary>
    private static async Task<Socket> AcceptOrFailAsync(Socket listener, QmpClient qmp, CancellationToken ct)
    {
        var accept = listener.AcceptAsync(ct).AsTask();
        while (await Task.WhenAny(accept, Task.Delay(50 * PollInterval, ct)) != accept)
        {
            var result = await qmp.ExecuteAsync("query-migrate", ct);
            if (result.TryGetProperty("status", out var s) && s.GetString() is "failed" or "cancelled")
            {
                var why = result.TryGetProperty("error-desc", out var d) ? d.GetString() : null;
                throw new VmException($"saving the template's device state failed: {TextSanitizer.ToPrintable(why ?? "the migration failed")}");
            }
        }

        return await accept;
    }

    private static async Task WaitForMigrationAsync(QmpClient qmp, CancellationToken ct)
    {
        while (true)
        {
            var result = await qmp.ExecuteAsync("query-migrate", ct);
            var status = result.TryGetProperty("status", out var s) ? s.GetString() : null;
            switch (status)
            {
                case "completed":
                    return;
                case "failed" or "cancelled":
                    var why = result.TryGetProperty("error-desc", out var d) ? d.GetString() : null;
                    throw new VmException($"saving the template's device state failed: {TextSanitizer.ToPrintable(why ?? status)}");
            }

            await Task.Delay(PollInterval, ct);
        }
    }

    private static async Task CopyBoundedAsync(Socket connection, Stream output, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(256 * 1024);
        try
        {
            long total = 0;
            while (true)
            {
                var read = await connection.ReceiveAsync(buffer.AsMemory(), SocketFlags.None, ct);
                if (read == 0)
                {
                    return;
                }

                total += read;
                if (total > MaxStateBytes)
                {
                    throw new VmException($"the template's device state passed {MaxStateBytes} bytes; RAM must not be in it.");
                }

                await output.WriteAsync(buffer.AsMemory(0, read), ct);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
