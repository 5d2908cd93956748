using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Cleanroom.Guest.Wire;
using Microsoft.Win32.SafeHandles;

namespace Cleanroom.Daemon.Executions;

/// <summary>
/// An execution's output, kept on disk in arrival order as records <c>[kind u8][length u32 BE][bytes]</c>. The file is
/// the buffer between the guest and any number of readers: each reader follows it at its own pace, so a slow client
/// costs disk, not daemon memory, and a late client still gets everything from the start.
/// </summary>
public sealed class OutputLog : IDisposable
{
    private const int RecordHeader = 5;
    private readonly string _path;
    private readonly SafeFileHandle? _writer;
    private readonly Lock _gate = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _length;
    private bool _completed;
    private Exception? _abandoned;

    private OutputLog(string path, SafeFileHandle? writer, long length, bool completed, long outputBytes = 0)
    {
        _path = path;
        _writer = writer;
        _length = length;
        _completed = completed;
        OutputBytes = outputBytes;
    }

    public string Path => _path;

    /// <summary>Output bytes (stdout and stderr, without record headers) in the log when it was opened.</summary>
    public long OutputBytes { get; }

    /// <summary>Creates a new, empty log for a running execution.</summary>
    public static OutputLog Create(string path) =>
        new(path, File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read), 0, completed: false);

    /// <summary>
    /// Opens the log of a command an earlier daemon left running, to append what follows. A record the earlier daemon
    /// was writing when it died is cut off (its bytes are not counted as stored, so the guest sends them again).
    /// </summary>
    public static OutputLog Continue(string path)
    {
        var writer = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        try
        {
            var size = RandomAccess.GetLength(writer);
            var header = new byte[RecordHeader];
            long offset = 0;
            long output = 0;
            while (offset + RecordHeader <= size)
            {
                ReadExactly(writer, header, offset);
                var length = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1));
                if (header[0] is not (1 or 2) || offset + RecordHeader + length > size)
                {
                    break;
                }

                offset += RecordHeader + length;
                output += length;
            }

            if (offset < size)
            {
                RandomAccess.SetLength(writer, offset);
            }

            return new OutputLog(path, writer, offset, completed: false, output);
        }
        catch
        {
            writer.Dispose();
            throw;
        }
    }

    /// <summary>Opens the finished log of an execution from an earlier daemon run, read-only.</summary>
    public static OutputLog OpenFinished(string path) =>
        new(path, writer: null, File.Exists(path) ? new FileInfo(path).Length : 0, completed: true);

    /// <summary>
    /// Appends one record. The write is a single synchronous gather write into the page cache: an asynchronous file
    /// write on Linux is that same write on another pool thread plus two hand-offs, and this sits on the path that
    /// grants the guest more output window, so each hand-off slowed a command's output (bench/bench.py throughput).
    /// </summary>
    public Task AppendAsync(OutputStreamKind kind, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var header = new byte[RecordHeader];
        header[0] = kind == OutputStreamKind.Stdout ? (byte)1 : (byte)2;
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(1), (uint)data.Length);

        // One writer (the execution's output pump) at a time, so no lock is needed around the writes themselves.
        if (_writer is null)
        {
            throw new InvalidOperationException("this output log is finished and read-only");
        }

        long offset;
        lock (_gate)
        {
            offset = _length;
        }

        RandomAccess.Write(_writer, [header, data], offset);
        Publish(() => _length += RecordHeader + data.Length);
        return Task.CompletedTask;
    }

    /// <summary>No more output will come; followers finish once they have read everything.</summary>
    public void Complete() => Publish(() => _completed = true);

    /// <summary>
    /// This daemon stops following the command (it stops and leaves it running for the next one): followers get
    /// everything written so far, then <paramref name="reason"/>.
    /// </summary>
    public void Abandon(Exception reason) => Publish(() => _abandoned ??= reason);

    /// <summary>Every record from the start; with <paramref name="follow"/>, keeps waiting for more until completion.</summary>
    public async IAsyncEnumerable<OutputChunk> ReadAsync(bool follow, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (!File.Exists(_path))
        {
            yield break;
        }

        // Synchronous positional reads: only bytes already published are read, so they are in the page cache and a
        // read never waits for the disk long (see AppendAsync for why not asynchronous ones).
        using var reader = File.OpenHandle(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var header = new byte[RecordHeader];
        long offset = 0;
        while (true)
        {
            var (available, completed, abandoned, changed) = Snapshot();

            while (offset + RecordHeader <= available)
            {
                cancellationToken.ThrowIfCancellationRequested();
                ReadExactly(reader, header, offset);
                var length = (int)BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1));
                var data = GC.AllocateUninitializedArray<byte>(length); // filled by the read below, or thrown away
                ReadExactly(reader, data, offset + RecordHeader);
                offset += RecordHeader + length;
                yield return new OutputChunk(header[0] == 1 ? OutputStreamKind.Stdout : OutputStreamKind.Stderr, data);
            }

            if (completed || !follow)
            {
                yield break;
            }

            if (abandoned is not null)
            {
                throw abandoned;
            }

            await changed.WaitAsync(cancellationToken);
        }
    }

    /// <summary>
    /// The length of the published records (whole records only) each time it grows, for a client that reads the file
    /// itself; ends once the log is complete, after a last value that covers all the output, and throws the reason
    /// when this daemon stops following the command. Values that came while the caller was busy arrive as one.
    /// </summary>
    public async IAsyncEnumerable<long> FollowLengthAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        long told = -1;
        while (true)
        {
            var (available, completed, abandoned, changed) = Snapshot();

            if (available != told)
            {
                told = available;
                yield return available;
            }

            if (completed)
            {
                yield break;
            }

            if (abandoned is not null)
            {
                throw abandoned;
            }

            await changed.WaitAsync(cancellationToken);
        }
    }

    public void Dispose() => _writer?.Dispose();

    private static void ReadExactly(SafeFileHandle file, Span<byte> buffer, long offset)
    {
        while (!buffer.IsEmpty)
        {
            var read = RandomAccess.Read(file, buffer, offset);
            if (read == 0)
            {
                throw new EndOfStreamException("the output log ends inside a record it published");
            }

            buffer = buffer[read..];
            offset += read;
        }
    }

    /// <summary>What is published, read together: the length, whether it is complete or abandoned, and the next change.</summary>
    private (long Length, bool Completed, Exception? Abandoned, Task Changed) Snapshot()
    {
        lock (_gate)
        {
            return (_length, _completed, _abandoned, _changed.Task);
        }
    }

    private void Publish(Action update)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            update();
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }
}
