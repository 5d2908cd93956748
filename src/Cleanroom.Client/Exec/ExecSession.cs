using Cleanroom.Api.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Cleanroom.Client.Exec;

/// <summary>The state of one exec from sandbox creation to cleanup; see <see cref="ExecRunner"/>.</summary>
internal sealed class ExecSession(DaemonConnection daemon, ExecSpec spec, ExecIo io, ExecEvents events, CancellationToken cancellationToken) : IDisposable
{
    // Removing a sandbox stops its VM; give a slow (TCG) guest time to power off before giving up.
    private static readonly TimeSpan CleanupTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan SignalTimeout = TimeSpan.FromSeconds(10);

    // How long a broken output stream is retried: a daemon restart takes seconds, and the command goes on meanwhile.
    private static readonly TimeSpan ReconnectWindow = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ReconnectPause = TimeSpan.FromMilliseconds(250);

    private readonly DaemonConnection _daemon = daemon;
    private readonly ExecSpec _spec = spec;
    private readonly ExecIo _io = io;
    private readonly ExecEvents _events = events;
    private readonly CancellationTokenSource _abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
    private readonly CancellationTokenSource _stopStdin = new();
    private readonly CancellationTokenSource _abandonCleanup = new();
    private readonly Lock _gate = new();

    private string? _sandboxId;
    private bool _createdSandbox;
    private bool _keepAfterFinish;
    private string? _executionId;
    private int _interrupts;
    private int _pendingSignal;
    private int _abortSignal = Signals.Interrupt;
    private bool _reconnectNoticed;

    public void Interrupt(int signal)
    {
        lock (_gate)
        {
            _interrupts++;
            if (_interrupts == 1 && _executionId is not null)
            {
                _ = SignalCommandAsync(signal);
            }
            else if (_interrupts == 1 && (_sandboxId is not null || _spec.SandboxId is not null))
            {
                // CreateExecution is in flight: cancelling it could leave the command running unseen, so the signal
                // is sent as soon as the execution id is known.
                _pendingSignal = signal;
            }
            else if (_interrupts <= 2)
            {
                // Still creating the sandbox (nothing to signal yet), or the second interrupt: stop now.
                _abortSignal = signal;
                _abort.Cancel();
            }
            else
            {
                _abandonCleanup.Cancel();
            }
        }
    }

    public async Task<ExecResult> RunAsync()
    {
        var (outcome, exitCode) = (ExecOutcome.Failed, 1);
        try
        {
            var sandboxId = _spec.SandboxId ?? await CreateSandboxAsync();
            if (_events.Prepare is { } prepare && !await prepare(sandboxId, _abort.Token))
            {
                return new ExecResult(ExecOutcome.Failed, 1, _sandboxId, null);
            }

            (outcome, exitCode) = await RunCommandAsync(sandboxId);
            if (outcome == ExecOutcome.Exited && _events.Finish is { } finish && await finish(sandboxId, exitCode, _abort.Token))
            {
                lock (_gate)
                {
                    _keepAfterFinish = true;
                }
            }
        }
        catch (Exception ex) when (_abort.IsCancellationRequested && CallCancellation.IsCancellation(ex))
        {
            (outcome, exitCode) = (ExecOutcome.Detached, Signals.ExitCode(_abortSignal));
        }
        catch (RpcException ex)
        {
            Notice(DaemonErrors.Describe(ex, _daemon.Endpoint));
        }
        finally
        {
            await _stopStdin.CancelAsync();
            await RemoveCreatedSandboxAsync();
        }

        return new ExecResult(outcome, exitCode, _sandboxId, _executionId);
    }

    public void Dispose()
    {
        _abort.Dispose();
        _stopStdin.Dispose();
        _abandonCleanup.Dispose();
    }

    private async Task<string> CreateSandboxAsync()
    {
        var response = await _daemon.Sandboxes.CreateSandboxAsync(new CreateSandboxRequest
        {
            ImageRef = _spec.ImageRef ?? "",
            CompiledPolicy = _spec.CompiledPolicy ?? "",
            Options = new SandboxOptions { Vcpus = _spec.Vcpus, MemoryMib = _spec.MemoryMiB },

            // Without --keep the daemon owns the sandbox's end too: it removes it if this client dies mid-exec.
            AutoRemove = !_spec.Keep,
            DangerouslyAllowAll = _spec.DangerouslyAllowAll,
            RepositoryCheckout = _spec.Repository,
        }, cancellationToken: _abort.Token);

        foreach (var warning in response.Warnings)
        {
            Notice("warning: " + warning);
        }

        var id = response.Sandbox.SandboxId;
        lock (_gate)
        {
            _sandboxId = id;
            _createdSandbox = true;
        }

        _events.SandboxCreated?.Invoke(id);
        return id;
    }

    /// <summary>
    /// Starts the command and follows its output in one call (RunExecution); a daemon without it (an older one, over
    /// HTTP) gets CreateExecution and StreamExecution. A stream that breaks after the start goes on as
    /// <see cref="StreamAsync"/> does.
    /// </summary>
    private async Task<(ExecOutcome, int)> RunCommandAsync(string sandboxId)
    {
        lock (_gate)
        {
            _sandboxId = sandboxId;
        }

        StreamAttempt attempt;
        string executionId;
        var request = NewExecutionRequest(sandboxId);

        // On the daemon's unix socket the output can be read from its log file instead of crossing the socket.
        request.ReadOutputLog = _daemon.Endpoint.SocketPath is not null;
        using (var call = _daemon.RunExecution(request, _abort.Token))
        {
            try
            {
                if (!await call.ResponseStream.MoveNext(_abort.Token) || call.ResponseStream.Current.PayloadCase != ExecutionStreamEvent.PayloadOneofCase.Created)
                {
                    throw new RpcException(new Status(StatusCode.Internal, "the daemon's RunExecution did not begin with the created execution"));
                }
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unimplemented)
            {
                var execution = await StartAsync(sandboxId);
                return await StreamAsync(sandboxId, execution.ExecutionId, null);
            }

            executionId = OnCreated(sandboxId, call.ResponseStream.Current.Created).ExecutionId;
            attempt = await FollowAsync(call.ResponseStream, sandboxId, executionId, 0);
        }

        // A log file this process cannot read (another user, another mount namespace) is no failure: the output comes
        // over the socket from there on.
        return attempt.Result ?? await StreamAsync(sandboxId, executionId, attempt.LogUnreadable ? null : attempt, attempt.Printed);
    }

    private async Task<Execution> StartAsync(string sandboxId)
    {
        var execution = (await _daemon.Executions.CreateExecutionAsync(NewExecutionRequest(sandboxId), cancellationToken: _abort.Token)).Execution;
        return OnCreated(sandboxId, execution);
    }

    private CreateExecutionRequest NewExecutionRequest(string sandboxId)
    {
        var options = new ExecutionOptions
        {
            Tty = _spec.Tty,
            Cwd = _spec.WorkingDirectory ?? "",
            User = _spec.User ?? "",
            Cols = _spec.Columns,
            Rows = _spec.Rows,
            AttachStdin = _spec.AttachStdin && _io.Stdin is not null,
        };
        options.Env.AddRange(_spec.Environment);
        var request = new CreateExecutionRequest { SandboxId = sandboxId, Options = options, Kind = ExecutionKind.Batch };
        request.Command.AddRange(_spec.Command);
        return request;
    }

    /// <summary>The command runs: its id is known, so a pending interrupt goes to it and stdin starts flowing.</summary>
    private Execution OnCreated(string sandboxId, Execution execution)
    {
        int pending;
        lock (_gate)
        {
            _executionId = execution.ExecutionId;
            pending = _pendingSignal;
        }

        _events.ExecutionStarted?.Invoke(execution.ExecutionId);
        if (pending != 0)
        {
            _ = SignalCommandAsync(pending);
        }

        if (_spec.AttachStdin && _io.Stdin is { } stdin)
        {
            // Not awaited: a read from a terminal or pipe cannot be cancelled, and the result does not depend
            // on it. Output streaming decides when the exec is over.
            _ = new StdinForwarder(_daemon.Executions, sandboxId, execution.ExecutionId).RunAsync(stdin, _stopStdin.Token);
        }

        return execution;
    }

    /// <summary>
    /// Follows the command's output to its exit. When the stream breaks or ends without an exit (the daemon stopped,
    /// crashed or restarted), the command goes on in its sandbox: this reconnects, from the byte it has printed, for up
    /// to <see cref="ReconnectWindow"/>, and only then falls back to the stored record.
    /// </summary>
    private async Task<(ExecOutcome, int)> StreamAsync(string sandboxId, string executionId, StreamAttempt? broken, long printed = 0)
    {
        long? lostAt = null;
        while (true)
        {
            // The first attempt may have been made already (RunExecution's stream), and broke.
            var attempt = broken ?? await StreamOnceAsync(sandboxId, executionId, printed);
            broken = null;
            if (attempt.Result is { } result)
            {
                return result;
            }

            printed = attempt.Printed;
            // An attempt that got nothing from a daemon it reached will not do better the next time; one that got output
            // before it broke, or found no daemon at all (it is restarting), is worth another.
            var final = attempt.Received == 0 && attempt.Error is not { StatusCode: StatusCode.Unavailable };
            lostAt ??= System.Diagnostics.Stopwatch.GetTimestamp();
            if (final || System.Diagnostics.Stopwatch.GetElapsedTime(lostAt.Value) > ReconnectWindow)
            {
                return await ExitFromRecordAsync(sandboxId, executionId, attempt.Error);
            }

            if (!_reconnectNoticed)
            {
                _reconnectNoticed = true;
                var why = attempt.Error is { } lost ? DaemonErrors.Describe(lost, _daemon.Endpoint) : "it ended without an exit status";
                Notice($"lost the output stream of execution {executionId} ({why}); reconnecting, the command goes on in its sandbox");
            }

            await Task.Delay(ReconnectPause, _abort.Token);
        }
    }

    private async Task<StreamAttempt> StreamOnceAsync(string sandboxId, string executionId, long printed)
    {
        using var call = _daemon.StreamExecution(
            new StreamExecutionRequest { SandboxId = sandboxId, ExecutionId = executionId, Follow = true, OutputOffset = printed },
            _abort.Token);
        return await FollowAsync(call.ResponseStream, sandboxId, executionId, printed);
    }

    /// <summary>Prints the output events of one stream until the exit event, the stream's end or a broken call.</summary>
    private async Task<StreamAttempt> FollowAsync(IAsyncStreamReader<ExecutionStreamEvent> stream, string sandboxId, string executionId, long printed)
    {
        var received = 0;
        OutputLogReader? logFile = null;
        try
        {
            while (await stream.MoveNext(_abort.Token))
            {
                received++;
                var message = stream.Current;
                switch (message.PayloadCase)
                {
                    case ExecutionStreamEvent.PayloadOneofCase.Stdout:
                        if (!await TryWriteAsync(_io.Stdout, message.Stdout))
                        {
                            return new StreamAttempt(await BrokenPipeAsync(sandboxId, executionId), printed, received, null);
                        }

                        printed += message.Stdout.Length;
                        break;
                    case ExecutionStreamEvent.PayloadOneofCase.Stderr:
                        if (!await TryWriteAsync(_io.Stderr, message.Stderr))
                        {
                            return new StreamAttempt(await BrokenPipeAsync(sandboxId, executionId), printed, received, null);
                        }

                        printed += message.Stderr.Length;
                        break;
                    case ExecutionStreamEvent.PayloadOneofCase.OutputLog:
                        logFile = OutputLogReader.TryOpen(message.OutputLog);
                        if (logFile is null)
                        {
                            return new StreamAttempt(null, printed, received, null, LogUnreadable: true);
                        }

                        break;
                    case ExecutionStreamEvent.PayloadOneofCase.OutputLogLength:
                        if (logFile is null)
                        {
                            return new StreamAttempt(null, printed, received, null, LogUnreadable: true);
                        }

                        var (written, end) = await logFile.CopyToAsync(message.OutputLogLength, _io, _abort.Token);
                        printed += written;
                        if (end == OutputLogReader.CopyEnd.ReaderGone)
                        {
                            return new StreamAttempt(await BrokenPipeAsync(sandboxId, executionId), printed, received, null);
                        }

                        if (end == OutputLogReader.CopyEnd.Unreadable)
                        {
                            // Whatever went wrong with the file, the daemon has the same output from here on.
                            return new StreamAttempt(null, printed, received, null, LogUnreadable: true);
                        }

                        break;
                    case ExecutionStreamEvent.PayloadOneofCase.Message:
                        Notice(message.Message);
                        break;
                    case ExecutionStreamEvent.PayloadOneofCase.Exit:
                        return new StreamAttempt((ExecOutcome.Exited, Exited(message.Exit.ExitCode, message.Exit.Message)), printed, received, null);
                    default:
                        break;
                }
            }
        }
        catch (RpcException ex) when (!_abort.IsCancellationRequested)
        {
            return new StreamAttempt(null, printed, received, ex);
        }
        finally
        {
            logFile?.Dispose();
        }

        return new StreamAttempt(null, printed, received, null);
    }

    // The stream can end or break without an exit event (e.g. the daemon restarted); the stored record may still
    // know how the command ended.
    private async Task<(ExecOutcome, int)> ExitFromRecordAsync(string sandboxId, string executionId, RpcException? streamError)
    {
        var lost = streamError is null
            ? "the output stream ended without an exit status"
            : "the output stream failed: " + DaemonErrors.Describe(streamError, _daemon.Endpoint);
        Execution execution;
        try
        {
            execution = (await _daemon.Executions.GetExecutionAsync(
                new GetExecutionRequest { SandboxId = sandboxId, ExecutionId = executionId },
                cancellationToken: _abort.Token)).Execution;
        }
        catch (RpcException ex) when (!_abort.IsCancellationRequested)
        {
            Notice(streamError is not null && DaemonErrors.IsUnreachable(ex)
                ? lost
                : $"{lost}, and the execution could not be read: {DaemonErrors.Describe(ex, _daemon.Endpoint)}");
            return (ExecOutcome.Failed, 1);
        }

        if (execution.Status is ExecutionStatus.Queued or ExecutionStatus.Running or ExecutionStatus.Unspecified)
        {
            Notice($"{lost} while execution {executionId} is still running");
            return (ExecOutcome.Failed, 1);
        }

        if (streamError is not null)
        {
            Notice(lost + "; output may be incomplete");
        }

        return (ExecOutcome.Exited, Exited(execution.ExitCode, execution.Error));
    }

    private int Exited(int exitCode, string message)
    {
        // A command that could not start (exit 127, "command not found: foo") explains itself here.
        if (message.Length > 0)
        {
            Notice(message);
        }

        return exitCode;
    }

    // The reader of our stdout went away (`cleanroom exec -- yes | head`): stop the command as a local pipeline would.
    private async Task<(ExecOutcome, int)> BrokenPipeAsync(string sandboxId, string executionId)
    {
        await SendSignalAsync(sandboxId, executionId, Signals.Pipe);
        return (ExecOutcome.BrokenPipe, Signals.ExitCode(Signals.Pipe));
    }

    private static async Task<bool> TryWriteAsync(Stream target, ByteString data)
    {
        try
        {
            await target.WriteAsync(data.Memory);
            await target.FlushAsync();
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private async Task SignalCommandAsync(int signal)
    {
        string? sandboxId, executionId;
        lock (_gate)
        {
            (sandboxId, executionId) = (_sandboxId, _executionId);
        }

        if (sandboxId is not null && executionId is not null)
        {
            await SendSignalAsync(sandboxId, executionId, signal);
        }
    }

    private async Task SendSignalAsync(string sandboxId, string executionId, int signal)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_abort.Token);
            timeout.CancelAfter(SignalTimeout);
            await _daemon.Executions.CancelExecutionAsync(
                new CancelExecutionRequest { SandboxId = sandboxId, ExecutionId = executionId, Signal = signal },
                cancellationToken: timeout.Token);
        }
        catch (RpcException ex) when (!_abort.IsCancellationRequested && ex.StatusCode != StatusCode.Cancelled)
        {
            Notice("could not signal the command: " + DaemonErrors.Describe(ex, _daemon.Endpoint));
        }
        catch (Exception ex) when (ex is RpcException or OperationCanceledException or ObjectDisposedException)
        {
            // Detached or finished meanwhile: nothing left to signal.
        }
    }

    private async Task RemoveCreatedSandboxAsync()
    {
        string? sandboxId;
        lock (_gate)
        {
            sandboxId = _createdSandbox && !_spec.Keep && !_keepAfterFinish ? _sandboxId : null;
        }

        if (sandboxId is null)
        {
            return;
        }

        // Not tied to _abort: a detached exec must still clean up. Only a third interrupt or the timeout stops it.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_abandonCleanup.Token);
        timeout.CancelAfter(CleanupTimeout);
        try
        {
            await _daemon.Sandboxes.TerminateSandboxAsync(new TerminateSandboxRequest { SandboxId = sandboxId }, cancellationToken: timeout.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled or StatusCode.DeadlineExceeded })
        {
            Notice($"stopped waiting for sandbox {sandboxId} to be removed; remove it with 'cleanroom sandbox rm {sandboxId}'");
        }
        catch (RpcException ex)
        {
            Notice($"could not remove sandbox {sandboxId}: {DaemonErrors.Describe(ex, _daemon.Endpoint)}");
        }
    }

    private void Notice(string line) => _events.Notice?.Invoke(line);

    /// <summary>
    /// One try at following the output: its result when it reached the exit, else how far it got and why not.
    /// <paramref name="LogUnreadable"/>: the stream was fine but the output log file could not be read here, so the
    /// output goes on over the socket from <paramref name="Printed"/>.
    /// </summary>
    private sealed record StreamAttempt((ExecOutcome, int)? Result, long Printed, int Received, RpcException? Error, bool LogUnreadable = false);
}
