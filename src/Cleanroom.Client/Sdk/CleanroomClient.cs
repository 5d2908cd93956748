using Cleanroom.Api.V1;
using Cleanroom.Client.Exec;
using Google.Protobuf;
using Grpc.Core;

namespace Cleanroom.Client.Sdk;

/// <summary>
/// A client of one Cleanroom daemon: the typed clients of every <c>cleanroom.v1</c> service on one channel (unix
/// socket, http, or https with TLS and client certificates), plus the calls a tool built on the daemon needs most:
/// <see cref="EnsureSandboxAsync"/>, <see cref="ExecAsync(string, IReadOnlyList{string}, Stream, Stream, Stream?, ExecOptions?, CancellationToken)"/>
/// and file transfers. Thread-safe; one instance serves any number of concurrent calls. Failed calls throw
/// <see cref="RpcException"/> whose detail starts with the daemon's reason code (see <see cref="DaemonErrors.ReasonCode"/>).
/// </summary>
public sealed class CleanroomClient : IDisposable
{
    /// <summary>Bytes per upload message: far below gRPC's message limit.</summary>
    private const int UploadChunkBytes = 64 * 1024;

    /// <summary>Connects to <paramref name="endpoint"/>; nothing is sent until the first call.</summary>
    /// <param name="endpoint">Where the daemon listens.</param>
    /// <param name="tls">For an https endpoint: the CA to trust and the client certificate; null for the system roots and none.</param>
    /// <exception cref="DaemonTlsException">The TLS files cannot be used.</exception>
    public CleanroomClient(DaemonEndpoint endpoint, DaemonTls? tls = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        Connection = DaemonConnection.Open(endpoint, tls ?? DaemonTls.Default);
    }

    /// <summary>The channel and the generated service clients this client calls through.</summary>
    public DaemonConnection Connection { get; }

    /// <summary>Where the daemon listens.</summary>
    public DaemonEndpoint Endpoint => Connection.Endpoint;

    /// <summary>cleanroom.v1.SandboxService: create, get, list, terminate, events, files.</summary>
    public SandboxService.SandboxServiceClient Sandboxes => Connection.Sandboxes;

    /// <summary>cleanroom.v1.ExecutionService: start, follow, signal and list commands.</summary>
    public ExecutionService.ExecutionServiceClient Executions => Connection.Executions;

    /// <summary>cleanroom.v1.ImageService: pull, import, list and remove images.</summary>
    public ImageService.ImageServiceClient Images => Connection.Images;

    /// <summary>cleanroom.v1.CacheService: the gateway's content cache.</summary>
    public CacheService.CacheServiceClient Cache => Connection.Cache;

    /// <summary>cleanroom.v1.SystemService: version, health and host checks.</summary>
    public SystemService.SystemServiceClient System => Connection.System;

    /// <summary>
    /// The daemon the <c>cleanroom</c> CLI would use: <paramref name="host"/>, else <c>CLEANROOM_HOST</c>, else
    /// <c>CLEANROOM_SOCKET</c>, else the default socket; TLS files from <c>CLEANROOM_TLS_CA</c>,
    /// <c>CLEANROOM_TLS_CERT</c> and <c>CLEANROOM_TLS_KEY</c>.
    /// </summary>
    /// <param name="host"><c>unix:///path</c>, an absolute socket path, or <c>http(s)://host:port</c>; null to resolve as above.</param>
    /// <exception cref="EndpointFormatException">The endpoint text is malformed.</exception>
    /// <exception cref="DaemonTlsException">The TLS files cannot be used.</exception>
    public static CleanroomClient Connect(string? host = null)
    {
        var endpoint = EndpointResolver.Resolve(host, global::System.Environment.GetEnvironmentVariable, LocalUser.Current);
        var tls = EndpointResolver.ResolveTls(null, null, null, global::System.Environment.GetEnvironmentVariable);
        return new CleanroomClient(endpoint, tls);
    }

    /// <summary>
    /// Returns the READY sandbox created with <paramref name="key"/>, creating it with <paramref name="options"/> when
    /// there is none (or the last one was terminated or failed). The daemon serialises creates per key, so concurrent
    /// calls with one key, from this process or any other, get one sandbox. The sandbox stays until it is terminated.
    /// </summary>
    /// <param name="key">The caller's name for the sandbox: 1-128 characters, ASCII letters, digits and <c>. _ - : / @</c>.</param>
    /// <param name="options">How to create it; ignored when the key's sandbox exists.</param>
    /// <param name="cancellationToken">Cancels the call; a create that was booting is undone by the daemon.</param>
    /// <exception cref="RpcException">The daemon refused (e.g. <c>invalid_argument</c> for a malformed key) or the create failed.</exception>
    public async Task<EnsuredSandbox> EnsureSandboxAsync(string key, SandboxCreateOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        options ??= SandboxCreateOptions.Default;
        var response = await Sandboxes.CreateSandboxAsync(new CreateSandboxRequest
        {
            ClientKey = key,
            ImageRef = options.ImageRef ?? "",
            Options = new Api.V1.SandboxOptions { Vcpus = options.Vcpus, MemoryMib = options.MemoryMiB },
            CompiledPolicy = options.CompiledPolicy ?? "",
            DangerouslyAllowAll = options.DangerouslyAllowAll,
            RepositoryCheckout = options.Repository,
        }, cancellationToken: cancellationToken);
        return new EnsuredSandbox(response.Sandbox, Created: !response.Reused);
    }

    /// <summary>Terminates a sandbox (its VM is stopped and its files deleted); terminating a stopped one is not an error.</summary>
    /// <param name="sandboxId">The sandbox.</param>
    /// <param name="cancellationToken">Stops waiting; the termination goes on in the daemon.</param>
    public async Task TerminateSandboxAsync(string sandboxId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(sandboxId);
        await Sandboxes.TerminateSandboxAsync(new TerminateSandboxRequest { SandboxId = sandboxId }, cancellationToken: cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="command"/> in a READY sandbox and waits for it, writing its stdout and stderr to the given
    /// streams as the output arrives (each chunk written and flushed in order) and feeding <paramref name="stdin"/> to it.
    /// </summary>
    /// <param name="sandboxId">The sandbox.</param>
    /// <param name="command">Program and arguments, as the guest receives them.</param>
    /// <param name="stdout">Receives the command's stdout (with <see cref="ExecOptions.Tty"/>, everything).</param>
    /// <param name="stderr">Receives the command's stderr.</param>
    /// <param name="stdin">Read to its end and forwarded, then the command's stdin is closed; null closes it at once.</param>
    /// <param name="options">Environment, user, directory, terminal, and what cancellation sends.</param>
    /// <param name="cancellationToken">
    /// Cancelling sends <see cref="ExecOptions.CancelSignal"/> (SIGKILL by default) to the command, waits up to
    /// <see cref="ExecOptions.CancelGrace"/> for it to end, and throws <see cref="OperationCanceledException"/>.
    /// </param>
    /// <returns>The exit code and signal. A non-zero exit is a result, not an exception.</returns>
    /// <exception cref="ExecFailedException">The command could not be started, or its end could not be known.</exception>
    public async Task<CommandResult> ExecAsync(
        string sandboxId,
        IReadOnlyList<string> command,
        Stream stdout,
        Stream stderr,
        Stream? stdin = null,
        ExecOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(sandboxId);
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        if (command.Count == 0)
        {
            throw new ArgumentException("the command is empty", nameof(command));
        }

        options ??= ExecOptions.Default;
        var environment = options.Environment.Select(pair => EnvironmentEntries.IsValidName(pair.Key)
            ? pair.Key + "=" + pair.Value
            : throw new ArgumentException($"invalid environment variable name '{pair.Key}'", nameof(options))).ToList();
        cancellationToken.ThrowIfCancellationRequested();

        var spec = new ExecSpec
        {
            Command = command,
            SandboxId = sandboxId,
            Environment = environment,
            WorkingDirectory = options.WorkingDirectory,
            User = options.User,
            Tty = options.Tty,
            Columns = options.Columns,
            Rows = options.Rows,
            AttachStdin = stdin is not null,
        };
        var messages = new List<string>();
        var events = new ExecEvents
        {
            Notice = line =>
            {
                lock (messages)
                {
                    messages.Add(line);
                }
            },
        };

        // Cancellation goes through the runner's interrupts, as the CLI's Ctrl-C does: the first one signals the
        // command (also when it is still being created) and keeps following it to its end; the second, after the
        // grace, stops following. The caller's token is not given to the runner: that would only detach, leaving
        // the command running.
        using var interrupts = new InterruptSignal();
        using var grace = new CancellationTokenSource();
        var running = new ExecRunner(Connection).RunAsync(spec, new ExecIo { Stdout = stdout, Stderr = stderr, Stdin = stdin }, events, interrupts, CancellationToken.None);

        // RunAsync subscribed to the interrupts before its first await, so an interrupt raised from here on is seen.
        using (grace.Token.Register(() => interrupts.Raise(options.CancelSignal)))
        using (cancellationToken.Register(() =>
        {
            interrupts.Raise(options.CancelSignal);
            grace.CancelAfter(options.CancelGrace);
        }))
        {
            var result = await running;
            string[] said;
            lock (messages)
            {
                said = [.. messages];
            }

            if (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(
                    result.Outcome == ExecOutcome.Detached
                        ? $"the exec was cancelled; execution {result.ExecutionId} did not end within {options.CancelGrace} of signal {options.CancelSignal}"
                        : $"the exec was cancelled; execution {result.ExecutionId} was sent signal {options.CancelSignal} and ended",
                    cancellationToken);
            }

            if (result.Outcome is ExecOutcome.Failed or ExecOutcome.Detached || result.ExecutionId is null)
            {
                throw new ExecFailedException(said.Length > 0 ? string.Join("; ", said) : "the command could not be run") { ExecutionId = result.ExecutionId };
            }

            return new CommandResult(result.ExecutionId, result.Outcome, result.ExitCode, await SignalOfAsync(sandboxId, result.ExecutionId), said);
        }
    }

    /// <summary>
    /// <see cref="ExecAsync(string, IReadOnlyList{string}, Stream, Stream, Stream?, ExecOptions?, CancellationToken)"/>
    /// with output decoded as UTF-8 (invalid bytes become U+FFFD) and written to text writers, e.g. <see cref="Console.Out"/>
    /// or a <see cref="StringWriter"/>.
    /// </summary>
    /// <param name="sandboxId">The sandbox.</param>
    /// <param name="command">Program and arguments.</param>
    /// <param name="stdout">Receives the command's stdout as text.</param>
    /// <param name="stderr">Receives the command's stderr as text.</param>
    /// <param name="stdin">Forwarded to the command; null closes its stdin at once.</param>
    /// <param name="options">Environment, user, directory, terminal, and what cancellation sends.</param>
    /// <param name="cancellationToken">Stops the command, as for the stream overload.</param>
    /// <returns>The exit code and signal.</returns>
    public async Task<CommandResult> ExecAsync(
        string sandboxId,
        IReadOnlyList<string> command,
        TextWriter stdout,
        TextWriter stderr,
        Stream? stdin = null,
        ExecOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        await using var outText = new TextWriterStream(stdout);
        await using var errText = new TextWriterStream(stderr);
        try
        {
            return await ExecAsync(sandboxId, command, outText, errText, stdin, options, cancellationToken);
        }
        finally
        {
            await outText.CompleteAsync();
            await errText.CompleteAsync();
        }
    }

    /// <summary>One regular file's content (the daemon refuses files larger than <paramref name="maxBytes"/>).</summary>
    /// <param name="sandboxId">The sandbox.</param>
    /// <param name="path">Absolute guest path.</param>
    /// <param name="maxBytes">The largest content accepted; 0 for the daemon's default (10 MiB); at most 16 MiB.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="RpcException">No such file (NotFound), not a regular file, or larger than the limit (ResourceExhausted).</exception>
    public async Task<byte[]> DownloadFileAsync(string sandboxId, string path, long maxBytes = 0, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(sandboxId);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var response = await Sandboxes.DownloadSandboxFileAsync(
            new DownloadSandboxFileRequest { SandboxId = sandboxId, Path = path, MaxBytes = maxBytes },
            cancellationToken: cancellationToken);
        return response.Data.ToByteArray();
    }

    /// <summary>
    /// Writes <paramref name="content"/> (read to its end) to a guest file, created or replaced atomically, its parent
    /// directories created. Returns the bytes written.
    /// </summary>
    /// <param name="sandboxId">The sandbox.</param>
    /// <param name="path">Absolute guest path of the file.</param>
    /// <param name="content">The file's content.</param>
    /// <param name="mode">Permission bits; null for 0644.</param>
    /// <param name="cancellationToken">Cancels the upload; the file is then not written.</param>
    /// <exception cref="RpcException">The daemon refused (a bad path, larger than its upload limit) or the guest failed.</exception>
    public async Task<long> UploadFileAsync(string sandboxId, string path, Stream content, UnixFileMode? mode = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(sandboxId);
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(content);
        using var call = Sandboxes.UploadSandboxFile(cancellationToken: cancellationToken);
        var first = new UploadSandboxFileRequest { SandboxId = sandboxId, Path = path, Mode = (uint)(mode ?? (UnixFileMode)0x1A4) };
        var buffer = new byte[UploadChunkBytes];
        int read;
        while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
        {
            var message = first ?? new UploadSandboxFileRequest();
            message.Data = ByteString.CopyFrom(buffer, 0, read);
            await call.RequestStream.WriteAsync(message, cancellationToken);
            first = null;
        }

        if (first is not null)
        {
            await call.RequestStream.WriteAsync(first, cancellationToken); // an empty file
        }

        await call.RequestStream.CompleteAsync();
        return (await call.ResponseAsync).SizeBytes;
    }

    /// <summary><see cref="UploadFileAsync(string, string, Stream, UnixFileMode?, CancellationToken)"/> from bytes in memory.</summary>
    /// <param name="sandboxId">The sandbox.</param>
    /// <param name="path">Absolute guest path of the file.</param>
    /// <param name="content">The file's content.</param>
    /// <param name="mode">Permission bits; null for 0644.</param>
    /// <param name="cancellationToken">Cancels the upload.</param>
    public async Task<long> UploadFileAsync(string sandboxId, string path, ReadOnlyMemory<byte> content, UnixFileMode? mode = null, CancellationToken cancellationToken = default)
    {
        using var stream = new MemoryStream(content.ToArray(), writable: false);
        return await UploadFileAsync(sandboxId, path, stream, mode, cancellationToken);
    }

    /// <summary>
    /// Copy-out: writes a PAX tar of guest <paramref name="paths"/> (directories recursively, symlinks as symlinks)
    /// to <paramref name="destination"/> as the guest makes it. Entry names are relative to <paramref name="basePath"/>.
    /// The tar comes from the guest: unpack it with the care due to hostile input.
    /// </summary>
    /// <param name="sandboxId">The sandbox.</param>
    /// <param name="basePath">Absolute guest directory the entry names are relative to.</param>
    /// <param name="paths">What to archive: paths under <paramref name="basePath"/> (relative to it, or absolute).</param>
    /// <param name="destination">Receives the tar.</param>
    /// <param name="cancellationToken">Cancels the transfer.</param>
    /// <returns>The bytes written.</returns>
    public async Task<long> ArchivePathsAsync(string sandboxId, string basePath, IReadOnlyList<string> paths, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(sandboxId);
        ArgumentException.ThrowIfNullOrEmpty(basePath);
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(destination);
        var request = new ArchiveSandboxPathsRequest { SandboxId = sandboxId, Base = basePath };
        request.Paths.AddRange(paths);
        using var call = Sandboxes.ArchiveSandboxPaths(request, cancellationToken: cancellationToken);
        long written = 0;
        while (await call.ResponseStream.MoveNext(cancellationToken))
        {
            var data = call.ResponseStream.Current.Data;
            await destination.WriteAsync(data.Memory, cancellationToken);
            written += data.Length;
        }

        return written;
    }

    /// <summary>
    /// Copy-in: unpacks the tar read from <paramref name="tar"/> under a guest directory (created if missing); existing
    /// files are replaced atomically. Returns the tar bytes sent.
    /// </summary>
    /// <param name="sandboxId">The sandbox.</param>
    /// <param name="directory">Absolute guest directory.</param>
    /// <param name="tar">A tar stream (PAX, GNU or ustar), read to its end.</param>
    /// <param name="cancellationToken">Cancels the transfer.</param>
    public async Task<long> ExtractArchiveAsync(string sandboxId, string directory, Stream tar, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(sandboxId);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(tar);
        using var call = Sandboxes.ExtractSandboxArchive(cancellationToken: cancellationToken);
        await call.RequestStream.WriteAsync(new ExtractSandboxArchiveRequest { SandboxId = sandboxId, Directory = directory }, cancellationToken);
        var buffer = new byte[UploadChunkBytes];
        int read;
        while ((read = await tar.ReadAsync(buffer, cancellationToken)) > 0)
        {
            await call.RequestStream.WriteAsync(new ExtractSandboxArchiveRequest { Data = ByteString.CopyFrom(buffer, 0, read) }, cancellationToken);
        }

        await call.RequestStream.CompleteAsync();
        return (await call.ResponseAsync).Bytes;
    }

    /// <summary>Closes the channel; calls still running fail.</summary>
    public void Dispose() => Connection.Dispose();

    // The stream's exit event carries the exit code only; the record says whether a signal ended the command.
    private async Task<int?> SignalOfAsync(string sandboxId, string executionId)
    {
        try
        {
            var execution = (await Executions.GetExecutionAsync(new GetExecutionRequest { SandboxId = sandboxId, ExecutionId = executionId })).Execution;
            return execution.Signal;
        }
        catch (RpcException)
        {
            return null;
        }
    }
}
