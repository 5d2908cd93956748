using System.Runtime.InteropServices;
using System.Text;

namespace Cleanroom.HostProcesses;

/// <summary>
/// Drains a child process's output stream so the child never blocks on a full pipe, keeping a bounded tail in
/// memory and, optionally, a bounded copy on disk. Output beyond the file limit is dropped (the guest is hostile
/// and must not be able to fill the host disk through its console). Can also signal the first line containing a
/// marker, which is how the KVM probe notices the guest reached userspace.
/// </summary>
public sealed class StreamCapture : IAsyncDisposable
{
    private const int MaxLineBytes = 4096;

    private readonly Lock _gate = new();
    private readonly TailBuffer _tail;
    private readonly FileStream? _file;
    private readonly long _fileLimit;
    private readonly byte[]? _marker;
    private readonly TaskCompletionSource _markerSeen = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<byte> _line = [];
    private long _fileBytes;
    private bool _truncationNoted;
    private bool _fileFailed;
    private Task _pump = Task.CompletedTask;

    /// <param name="tailBytes">How much of the end of the output to keep in memory.</param>
    /// <param name="filePath">Where to copy the output, or null.</param>
    /// <param name="fileLimitBytes">Largest number of bytes written to <paramref name="filePath"/>.</param>
    /// <param name="marker">A string whose appearance in a line completes <see cref="MarkerSeen"/>.</param>
    /// <param name="append">
    /// Continue <paramref name="filePath"/> instead of replacing it (a restarted daemon taking over a VM's console);
    /// what is already there counts against the limit.
    /// </param>
    public StreamCapture(int tailBytes, string? filePath = null, long fileLimitBytes = 0, string? marker = null, bool append = false)
    {
        _tail = new TailBuffer(tailBytes);
        _fileLimit = fileLimitBytes;
        _marker = marker is null ? null : Encoding.UTF8.GetBytes(marker);
        if (filePath is not null)
        {
            _file = new FileStream(filePath, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 4096, useAsync: true);
            _fileBytes = append ? _file.Length : 0;
            _truncationNoted = append && _fileBytes >= _fileLimit;
        }
    }

    /// <summary>Completes when a line containing the marker has been read; never completes without a marker.</summary>
    public Task MarkerSeen => _markerSeen.Task;

    /// <summary>Completes when the source reached end of stream (or failed) and the file is closed.</summary>
    public Task Completion => _pump;

    public long TotalBytes
    {
        get
        {
            lock (_gate)
            {
                return _tail.TotalWritten;
            }
        }
    }

    /// <summary>Starts draining <paramref name="source"/> in the background.</summary>
    public void Start(Stream source) => _pump = Task.Run(() => PumpAsync(source));

    /// <summary>The kept tail decoded as UTF-8 exactly as received (for a tool's ordinary output).</summary>
    public string RawText()
    {
        lock (_gate)
        {
            return Encoding.UTF8.GetString(_tail.ToArray());
        }
    }

    /// <summary>The kept tail made safe for messages and logs (see <see cref="TextSanitizer"/>).</summary>
    public string PrintableText()
    {
        lock (_gate)
        {
            return TextSanitizer.ToPrintable(_tail.ToArray());
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _pump;
        }
        catch (IOException)
        {
            // The pump already recorded what it could; a broken pipe at teardown is not an error.
        }

        if (_file is not null)
        {
            await _file.DisposeAsync();
        }
    }

    private async Task PumpAsync(Stream source)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await source.ReadAsync(buffer)) > 0)
            {
                var chunk = buffer.AsMemory(0, read);
                lock (_gate)
                {
                    _tail.Write(chunk.Span);
                    ScanForMarker(chunk.Span);
                }

                await WriteToFileAsync(chunk);
            }
        }
        catch (ObjectDisposedException)
        {
            // The process object was disposed while we were reading: nothing more will arrive.
        }
        finally
        {
            if (_file is not null && !_fileFailed)
            {
                try
                {
                    await _file.FlushAsync();
                }
                catch (IOException)
                {
                    _fileFailed = true;
                }
            }
        }
    }

    private async Task WriteToFileAsync(ReadOnlyMemory<byte> chunk)
    {
        if (_file is null || _fileFailed)
        {
            return;
        }

        try
        {
            var room = _fileLimit - _fileBytes;
            if (room > 0)
            {
                var part = chunk[..(int)Math.Min(room, chunk.Length)];
                await _file.WriteAsync(part);
                _fileBytes += part.Length;
            }
            else if (!_truncationNoted)
            {
                _truncationNoted = true;
                await _file.WriteAsync(Encoding.UTF8.GetBytes($"\n[cleanroom: output truncated at {_fileLimit} bytes]\n"));
            }

            // Flush per chunk so `tail -f console.log` and failure messages see output as it happens.
            await _file.FlushAsync();
        }
        catch (IOException)
        {
            // Disk full or similar: stop copying, but keep draining so the child never blocks on its output.
            _fileFailed = true;
        }
    }

    private void ScanForMarker(ReadOnlySpan<byte> chunk)
    {
        if (_marker is null || _markerSeen.Task.IsCompleted)
        {
            return;
        }

        foreach (var b in chunk)
        {
            if (b == (byte)'\n')
            {
                if (ContainsMarker(_marker))
                {
                    _markerSeen.TrySetResult();
                    return;
                }

                _line.Clear();
            }
            else if (_line.Count < MaxLineBytes)
            {
                _line.Add(b);
            }
        }

        // The marker may arrive without its newline just before the guest powers off.
        if (ContainsMarker(_marker))
        {
            _markerSeen.TrySetResult();
        }
    }

    private bool ContainsMarker(byte[] marker) =>
        _line.Count >= marker.Length && CollectionsMarshal.AsSpan(_line).IndexOf(marker) >= 0;
}
