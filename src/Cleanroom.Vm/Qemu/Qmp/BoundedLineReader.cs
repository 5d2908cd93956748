using System.Text;

namespace Cleanroom.Vm.Qemu.Qmp;

/// <summary>
/// Reads '\n'-terminated lines from a stream without ever buffering more than <c>maxLineBytes</c>: a peer that
/// never sends a newline gets an error, not our memory.
/// </summary>
internal sealed class BoundedLineReader(Stream stream, int maxLineBytes)
{
    private byte[] _buffer = new byte[Math.Min(4096, maxLineBytes + 1)];
    private int _start;
    private int _end;

    /// <summary>The next line without its "\r\n"/"\n", or null at end of stream.</summary>
    public async ValueTask<string?> ReadLineAsync(CancellationToken ct)
    {
        while (true)
        {
            var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline >= 0)
            {
                var length = newline - _start;
                if (length > 0 && _buffer[newline - 1] == (byte)'\r')
                {
                    length--;
                }

                var line = Encoding.UTF8.GetString(_buffer, _start, length);
                _start = newline + 1;
                return line;
            }

            if (_end - _start >= maxLineBytes)
            {
                throw new QmpException($"QMP peer sent a line longer than {maxLineBytes} bytes.");
            }

            MakeRoom();
            var read = await stream.ReadAsync(_buffer.AsMemory(_end), ct);
            if (read == 0)
            {
                return null;
            }

            _end += read;
        }
    }

    private void MakeRoom()
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Min(_buffer.Length * 2, maxLineBytes + 1));
        }
    }
}
