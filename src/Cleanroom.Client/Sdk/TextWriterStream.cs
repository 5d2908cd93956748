using System.Text;

namespace Cleanroom.Client.Sdk;

/// <summary>
/// A write-only stream that decodes UTF-8 into a <see cref="TextWriter"/>. The decoder keeps a character split across
/// two output chunks until its second half arrives; <see cref="CompleteAsync"/> writes what is left (as U+FFFD).
/// </summary>
internal sealed class TextWriterStream(TextWriter writer) : Stream
{
    private readonly Decoder _decoder = new UTF8Encoding(false, false).GetDecoder();

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] buffer, int offset, int count) => writer.Write(Decode(buffer.AsSpan(offset, count), flush: false));

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        await writer.WriteAsync(Decode(buffer.Span, flush: false).AsMemory(), cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() => writer.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => writer.FlushAsync(cancellationToken);

    /// <summary>Writes an incomplete trailing character, if any, and flushes the writer.</summary>
    public async Task CompleteAsync()
    {
        await writer.WriteAsync(Decode([], flush: true));
        await writer.FlushAsync();
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    private char[] Decode(ReadOnlySpan<byte> bytes, bool flush)
    {
        var chars = new char[_decoder.GetCharCount(bytes, flush)];
        _decoder.GetChars(bytes, chars, flush);
        return chars;
    }
}
