using Cleanroom.Api.V1;
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
    private readonly StateStore _store;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource<ExecutionRecord> _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private ExecutionRecord _record;
    private GuestProcess? _process;
    private int _cancelSignal;
    private string? _abortReason;

    public ExecutionRunner(ExecutionRecord record, OutputLog log, StateStore store, ILogger logger)
    {
        _record = record;
        Log = log;
        _store = store;
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

    /// <summary>Starts the process in the guest and returns once the guest accepted it; the rest runs in the background.</summary>
    public async Task StartAsync(AgentClient agent, ExecRequest request, bool attachStdin, CancellationToken cancellationToken)
    {
        try
        {
            _process = await agent.StartAsync(request, cancellationToken);
            if (!attachStdin)
            {
                await _process.CloseStdinAsync(cancellationToken);
            }
        }
        catch (Exception ex) when (ex is WireProtocolException or InvalidOperationException or ArgumentException)
        {
            Finish(ExecutionStatus.Failed, 1, 0, "could not start the command: " + ex.Message);
            throw DaemonException.NotReady(ex.Message);
        }

        Update(r => r with { Status = ExecutionStatus.Running, StartedAt = DateTimeOffset.UtcNow });
        _ = Task.Run(() => PumpAsync(_process), CancellationToken.None);
    }

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
            while (await process.ReadOutputAsync(CancellationToken.None) is { } chunk)
            {
                await Log.AppendAsync(chunk.Stream, chunk.Data, CancellationToken.None);
            }

            var exit = await process.Exited;
            var status = exit.ShellExitCode == 0 ? ExecutionStatus.Succeeded
                : _cancelSignal != 0 && exit.Signal != 0 ? ExecutionStatus.Canceled
                : ExecutionStatus.Failed;
            Finish(status, exit.ShellExitCode, exit.Signal, exit.Error);
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
            Finish(ExecutionStatus.Failed, 1, 0, "the daemon could not store the output: " + ex.Message);
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
