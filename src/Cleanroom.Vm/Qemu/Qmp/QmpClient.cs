using System.Buffers;
using System.Net.Sockets;
using System.Text.Json;

namespace Cleanroom.Vm.Qemu.Qmp;

/// <summary>
/// A minimal client for the QEMU Machine Protocol over a unix socket: greeting, capability negotiation, then one
/// command at a time. QEMU is on our side of the trust boundary, but the client still bounds line length, the
/// number of interleaved events it skips, and how long each exchange may take, so a wedged QEMU cannot hang us.
/// </summary>
public sealed class QmpClient : IAsyncDisposable
{
    public const int MaxLineBytes = 64 * 1024;

    /// <summary>Events (SHUTDOWN, RESET, …) skipped while waiting for one reply before we call the peer broken.</summary>
    private const int MaxEventsPerReply = 1000;

    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    private readonly Stream _stream;
    private readonly BoundedLineReader _reader;
    private readonly TimeSpan _timeout;
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);
    private bool _broken;
    private bool _disposed;

    private QmpClient(Stream stream, TimeSpan timeout)
    {
        _stream = stream;
        _timeout = timeout;
        _reader = new BoundedLineReader(stream, MaxLineBytes);
    }

    /// <summary>QEMU's version from the greeting, e.g. "7.2.22".</summary>
    public string QemuVersion { get; private set; } = "unknown";

    /// <summary>Connects to <paramref name="socketPath"/> and negotiates capabilities. Does not retry.</summary>
    public static async Task<QmpClient> ConnectAsync(string socketPath, TimeSpan timeout, CancellationToken ct)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return await OpenAsync(new NetworkStream(socket, ownsSocket: true), timeout, ct);
    }

    /// <summary>Runs the handshake over an already connected stream, which the client then owns.</summary>
    public static async Task<QmpClient> OpenAsync(Stream stream, TimeSpan timeout, CancellationToken ct)
    {
        var client = new QmpClient(stream, timeout);
        try
        {
            await client.HandshakeAsync(ct);
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs <paramref name="command"/> and returns its "return" value; throws <see cref="QmpException"/> on "error".</summary>
    public Task<JsonElement> ExecuteAsync(string command, CancellationToken ct) => ExecuteAsync(command, null, ct);

    /// <summary>Runs <paramref name="command"/> with an "arguments" object; otherwise like <see cref="ExecuteAsync(string, CancellationToken)"/>.</summary>
    public async Task<JsonElement> ExecuteAsync(string command, JsonElement? arguments, CancellationToken ct)
    {
        await _oneAtATime.WaitAsync(ct);
        try
        {
            return await ExchangeAsync(command, ct, arguments) ?? throw Broken($"QMP connection closed before '{command}' was answered.");
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    /// <summary>A command's "arguments" object, written by <paramref name="write"/>.</summary>
    public static JsonElement Arguments(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    public async Task<QmpStatus> QueryStatusAsync(CancellationToken ct)
    {
        var result = await ExecuteAsync("query-status", ct);
        return result.Deserialize(QmpJsonContext.Default.QmpStatus)
            ?? throw new QmpException("QMP query-status returned an empty answer.");
    }

    /// <summary>
    /// Asks QEMU to exit immediately (no guest shutdown). QEMU may close the socket before or after answering; both
    /// count as success.
    /// </summary>
    public async Task QuitAsync(CancellationToken ct)
    {
        await _oneAtATime.WaitAsync(ct);
        try
        {
            await ExchangeAsync("quit", ct);
        }
        catch (IOException)
        {
            // The socket died with QEMU: that is what we asked for.
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _stream.DisposeAsync();
        _oneAtATime.Dispose();
    }

    private async Task HandshakeAsync(CancellationToken ct)
    {
        using var deadline = Deadline(ct);
        var greeting = await ReadMessageAsync("greeting", deadline.Token, ct)
            ?? throw Broken("QMP peer closed the connection before sending its greeting.");
        if (greeting.Greeting is null)
        {
            throw Broken("QMP peer did not start with a greeting; is this a QMP socket?");
        }

        if (greeting.Greeting.Version?.Qemu is { } v)
        {
            QemuVersion = $"{v.Major}.{v.Minor}.{v.Micro}";
        }

        _ = await ExchangeAsync("qmp_capabilities", ct)
            ?? throw Broken("QMP peer closed the connection during capability negotiation.");
    }

    /// <summary>Sends a command and returns its reply, or null if the peer closed the connection.</summary>
    private async Task<JsonElement?> ExchangeAsync(string command, CancellationToken ct, JsonElement? arguments = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_broken)
        {
            throw new QmpException($"QMP connection is unusable after an earlier failure; cannot run '{command}'.");
        }

        using var deadline = Deadline(ct);
        var json = JsonSerializer.SerializeToUtf8Bytes(new QmpCommand(command, arguments), QmpJsonContext.Default.QmpCommand);
        var payload = new byte[json.Length + 1];
        json.CopyTo(payload, 0);
        payload[^1] = (byte)'\n';
        try
        {
            await _stream.WriteAsync(payload, deadline.Token);
            await _stream.FlushAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw Broken($"QMP command '{command}' could not be sent within {_timeout.TotalSeconds:0.#} s.");
        }

        for (var skipped = 0; skipped <= MaxEventsPerReply; skipped++)
        {
            var message = await ReadMessageAsync(command, deadline.Token, ct);
            if (message is null)
            {
                return null;
            }

            if (message.Event is not null)
            {
                continue;
            }

            if (message.Error is { } error)
            {
                throw new QmpException($"QMP command '{command}' failed: {error.Class}: {error.Desc}", error.Class);
            }

            if (message.Return is { } value)
            {
                return value;
            }

            throw Broken($"QMP peer sent a message that is neither a reply nor an event while running '{command}'.");
        }

        throw Broken($"QMP peer sent more than {MaxEventsPerReply} events without answering '{command}'.");
    }

    private async Task<QmpMessage?> ReadMessageAsync(string waitingFor, CancellationToken deadline, CancellationToken caller)
    {
        string? line;
        try
        {
            line = await _reader.ReadLineAsync(deadline);
        }
        catch (OperationCanceledException) when (!caller.IsCancellationRequested)
        {
            throw Broken($"QMP peer did not answer '{waitingFor}' within {_timeout.TotalSeconds:0.#} s.");
        }
        catch (QmpException)
        {
            _broken = true;
            throw;
        }

        if (line is null)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(line, QmpJsonContext.Default.QmpMessage)
                ?? throw Broken($"QMP peer sent 'null' while running '{waitingFor}'.");
        }
        catch (JsonException ex)
        {
            _broken = true;
            throw new QmpException($"QMP peer sent invalid JSON while running '{waitingFor}': {ex.Message}", ex);
        }
    }

    private CancellationTokenSource Deadline(CancellationToken ct)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(_timeout);
        return cts;
    }

    /// <summary>After a timeout or protocol error the stream position is unknown, so the client refuses further use.</summary>
    private QmpException Broken(string message)
    {
        _broken = true;
        return new QmpException(message);
    }
}
