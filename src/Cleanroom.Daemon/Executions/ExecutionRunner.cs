using Cleanroom.Daemon.State;
using Cleanroom.Guest.Wire;
using Cleanroom.Guest.Wire.Host;
using Cleanroom.Guest.Wire.Messages;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Daemon.Executions;

/// <summary>
/// Owns one running execution: starts it in the guest, moves its output into the <see cref="OutputLog"/>, relays
/// stdin and signals, and records how it ended. The record in the store is the truth for everyone else.
/// </summary>
public sealed class ExecutionRunner
{
    private static readonly TimeSpan ControlTimeout = TimeSpan.FromSeconds(10);
    private readonly StateStore _store;
    private readonly OutputBudget _budget;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource<ExecutionRecord> _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private ExecutionRecord _record;
    private GuestProcess? _process;
    private int _cancelSignal;
    private string? _abortReason;
    private bool _leaving;

    public ExecutionRunner(ExecutionRecord record, OutputLog log, StateStore store, OutputBudget budget, ILogger logger)
    {
        _record = record;
        Log = log;
        _store = store;
        _budget = budget;
        _logger = logger;
    }

    public OutputLog Log { get; }

    public ExecutionRecord Record
    {
        get
        {
            lock (_gate)
            {
                return _record;
            }
        }
    }

    /// <summary>Completes with the final record once the execution ended and its output is fully logged.</summary>
    public Task<ExecutionRecord> Finished => _finished.Task;

    /// <summary>
    /// Starts the process in the guest and returns once the guest accepted it; the rest runs in the background. Any
    /// failure before that (the caller cancelled, the guest is gone) ends the record FAILED with the reason.
    /// </summary>
    public async Task StartAsync(AgentClient agent, ExecRequest request, bool attachStdin, CancellationToken cancellationToken)
    {
        try
        {
            // Kept until released: the exit is recorded first, so a daemon dying in between loses nothing.
            _process = await agent.StartAsync(request, cancellationToken, keepUntilReleased: true);
        }
        catch (Exception ex)
        {
            var why = ex is OperationCanceledException ? "the request was cancelled before the command started" : ex.Message;
            Finish(ExecutionStatus.Failed, 1, 0, "could not start the command: " + why);
            throw ex is WireProtocolException or InvalidOperationException or ArgumentException ? DaemonException.NotReady(ex.Message) : ex;
        }

        // The process exists now: what follows must not depend on the caller staying, or the record would lie.
        var streamId = _process.StreamId;
        Update(r => r with { Status = ExecutionStatus.Running, StartedAt = DateTimeOffset.UtcNow, StreamId = streamId });
        _ = Task.Run(() => PumpAsync(_process), CancellationToken.None);
        if (!attachStdin)
        {
            using var timeout = new CancellationTokenSource(ControlTimeout);
            try
            {
                await _process.CloseStdinAsync(timeout.Token);
            }
            catch (Exception ex) when (ex is WireProtocolException or OperationCanceledException or IOException)
            {
                _logger.LogInformation("execution {Id}: could not close stdin: {Reason}", _record.Id, ex.Message);
            }
        }
    }

    /// <summary>
    /// Goes on with a command an earlier daemon started, on the stream this daemon took over after a restart: its
    /// output continues in the same log after the bytes the log already held.
    /// </summary>
    public void TakeOver(GuestProcess process)
    {
        _process = process;
        _ = Task.Run(() => PumpAsync(process), CancellationToken.None);
    }

    /// <summary>
    /// The daemon stops and leaves the sandbox running (<c>serve --on-stop keep</c>): when the guest connection closes,
    /// the record stays RUNNING for the next daemon to take over, instead of ending as lost.
    /// </summary>
    public void LeaveRunning() => Volatile.Write(ref _leaving, true);

    public Task WriteStdinAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        RunningProcess().WriteStdinAsync(data, cancellationToken);

    public Task CloseStdinAsync(CancellationToken cancellationToken) => RunningProcess().CloseStdinAsync(cancellationToken);

    public Task ResizeAsync(ushort cols, ushort rows, CancellationToken cancellationToken) => RunningProcess().ResizeAsync(cols, rows, cancellationToken);

    /// <summary>Delivers a signal; the execution counts as canceled if that signal ends it.</summary>
    public async Task<bool> SignalAsync(int signal, CancellationToken cancellationToken)
    {
        if (_finished.Task.IsCompleted || _process is null)
        {
            return false;
        }

        Interlocked.CompareExchange(ref _cancelSignal, signal, 0);
        await _process.SignalAsync(signal, cancellationToken);
        return true;
    }

    /// <summary>The sandbox is going away; record why, so the lost connection is reported as that and not as an error.</summary>
    public void MarkAborted(string reason) => Interlocked.CompareExchange(ref _abortReason, reason, null);

    private GuestProcess RunningProcess() =>
        _process is not null && !_finished.Task.IsCompleted
            ? _process
            : throw DaemonException.NotReady($"execution {_record.Id} is not running");

    private async Task PumpAsync(GuestProcess process)
    {
        try
        {
            _ = process.Started.ContinueWith(t => Update(r => r with { GuestPid = t.Result }), TaskContinuationOptions.OnlyOnRanToCompletion);
            var cut = await CopyOutputAsync(process);
            var exit = await process.Exited;
            if (cut is not null)
            {
                Finish(ExecutionStatus.Failed, exit.ShellExitCode, exit.Signal, cut);
            }
            else
            {
                var status = exit.ShellExitCode == 0 ? ExecutionStatus.Succeeded
                    : _cancelSignal != 0 && exit.Signal != 0 ? ExecutionStatus.Canceled
                    : ExecutionStatus.Failed;
                Finish(status, exit.ShellExitCode, exit.Signal, exit.Error);
            }

            // Recorded: the guest may forget the command now.
            using var timeout = new CancellationTokenSource(ControlTimeout);
            await process.ReleaseAsync(timeout.Token);
        }
        catch (WireProtocolException) when (Volatile.Read(ref _leaving))
        {
            // The record stays RUNNING and the log as far as it got; the next daemon takes the command over. Clients
            // following it are told to go to that daemon.
            Log.Abandon(DaemonException.Stopping($"the daemon stopped and left execution {_record.Id} running; the next daemon on this state directory serves the rest of its output"));
            Log.Dispose();
            _finished.TrySetResult(Record);
        }
        catch (WireProtocolException ex)
        {
            // SIGKILL's conventional code: the command was killed with its VM.
            if (_abortReason is { } reason)
            {
                Finish(ExecutionStatus.Canceled, 137, 9, reason);
            }
            else
            {
                Finish(ExecutionStatus.Failed, 1, 0, "lost the guest: " + ex.Message);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _logger.LogError(ex, "execution {Id}: could not store output", _record.Id);
            await KillAsync(process);
            Finish(ExecutionStatus.Failed, 1, 0, "the daemon could not store the output: " + ex.Message);
        }
    }

    /// <summary>
    /// Moves output into the log until the process ends, within the budget. Past the output cap, or when the disk
    /// falls below its reserve, the log gets a last line saying where and why it was cut, the command is killed and
    /// the rest of its output is read and dropped. Returns that reason, or null when all output was kept.
    /// </summary>
    private async Task<string?> CopyOutputAsync(GuestProcess process)
    {
        // A command taken over after a restart has its earlier output in the log already: it counts against the cap.
        var written = Log.OutputBytes;
        long sinceDiskCheck = 0;
        string? cut = null;
        while (await process.ReadOutputAsync(CancellationToken.None) is { } chunk)
        {
            if (cut is not null)
            {
                continue;
            }

            var room = _budget.MaxBytes - written;
            if (chunk.Data.Length > room)
            {
                cut = $"output limit: the command wrote more than {_budget.MaxBytes} bytes (the daemon's cap per execution), so it was killed and its output cut there";
            }
            else if (sinceDiskCheck + chunk.Data.Length >= OutputBudget.DiskCheckInterval && _budget.Disk.IsLow)
            {
                room = 0;
                cut = $"host disk low: fewer than {_budget.Disk.ReserveBytes} bytes are free on the daemon's file system, so the command was killed and its output cut after {written} bytes";
            }

            var kept = cut is null ? chunk.Data : chunk.Data[..(int)Math.Max(room, 0)];
            if (!kept.IsEmpty)
            {
                await Log.AppendAsync(chunk.Stream, kept, CancellationToken.None);
                written += kept.Length;
                sinceDiskCheck = sinceDiskCheck + kept.Length >= OutputBudget.DiskCheckInterval ? 0 : sinceDiskCheck + kept.Length;
            }

            if (cut is not null)
            {
                await Log.AppendAsync(OutputStreamKind.Stderr, System.Text.Encoding.UTF8.GetBytes($"\n[cleanroom] output cut at byte {written}: {cut}\n"), CancellationToken.None);
                _logger.LogWarning("execution {Id}: {Reason}", _record.Id, cut);
                await KillAsync(process);
            }
        }

        return cut;
    }

    private static async Task KillAsync(GuestProcess process)
    {
        using var timeout = new CancellationTokenSource(ControlTimeout);
        try
        {
            await process.SignalAsync(9, timeout.Token);
        }
        catch (Exception ex) when (ex is WireProtocolException or OperationCanceledException or IOException)
        {
            // The process or its sandbox is gone already.
        }
    }

    private void Finish(ExecutionStatus status, int exitCode, int signal, string error)
    {
        ExecutionRecord final;
        lock (_gate)
        {
            if (_finished.Task.IsCompleted)
            {
                return;
            }

            final = _record with { Status = status, ExitCode = exitCode, Signal = signal, Error = error, FinishedAt = DateTimeOffset.UtcNow };
            _record = final;

            // Written under the gate so a late status update can never overwrite the final row.
            _store.UpsertExecution(final);
        }

        Log.Complete();
        Log.Dispose();
        _finished.TrySetResult(final);
    }

    private void Update(Func<ExecutionRecord, ExecutionRecord> change)
    {
        lock (_gate)
        {
            if (_record.IsFinished)
            {
                return;
            }

            var updated = change(_record);
            _record = updated;
            _store.UpsertExecution(updated);
        }
    }
}
