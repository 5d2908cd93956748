using System.Diagnostics;
using System.Globalization;
using System.Text;
using Cleanroom.HostProcesses;

namespace Cleanroom.Workspaces.Git;

/// <summary>
/// Streams many blobs out of a repository with one <c>git cat-file --batch</c>: the object ids are written to its
/// stdin by a feeder task while the caller reads each answer (<c>OID SP TYPE SP SIZE LF</c>, the content, <c>LF</c>)
/// in the same order. One process for a whole tree, where a process per file would dominate. Every header is checked
/// against the object asked for and the size the tree listed, so a repository cannot make the reader take more (or
/// other) bytes than the budgets counted. Not thread-safe: one reader.
/// </summary>
internal sealed class BlobBatch : IAsyncDisposable
{
    private const int MaxHeaderBytes = 160;
    private const int StderrTailBytes = 16 * 1024;

    private readonly Process _process;
    private readonly StreamCapture _stderr;
    private readonly BufferedStream _stdout;
    private readonly Task _feeder;
    private readonly CancellationTokenSource _deadline;
    private readonly byte[] _header = new byte[MaxHeaderBytes];
    private bool _exited;
    private CancellationTokenRegistration _kill;
    private CancellationToken _caller;

    private BlobBatch(Process process, StreamCapture stderr, Task feeder, CancellationTokenSource deadline)
    {
        _process = process;
        _stderr = stderr;
        _stdout = new BufferedStream(new BlockingReads(process.StandardOutput.BaseStream), 1 << 20);
        _feeder = feeder;
        _deadline = deadline;
    }

    /// <summary>The content of the object last announced by <see cref="NextAsync"/>: read exactly its size.</summary>
    public Stream Content => _stdout;

    /// <summary>Cancelled when the whole batch's time is up (or the caller's token is).</summary>
    public CancellationToken Token => _deadline.Token;

    /// <summary>Starts <c>git cat-file --batch</c> in <paramref name="repositoryPath"/> for <paramref name="objectIds"/>, in order.</summary>
    public static BlobBatch Start(string repositoryPath, IReadOnlyList<byte[]> objectIds, TimeSpan timeout, CancellationToken ct)
    {
        var info = HostGit.StartInfo(repositoryPath, ["cat-file", "--batch"], HostGit.RemovedVariables);
        foreach (var (name, value) in HostGit.CommonVariables)
        {
            info.Environment[name] = value;
        }

        var process = new Process { StartInfo = info };
        ChildSpawn.Start(process);
        var stderr = new StreamCapture(StderrTailBytes);
        stderr.Start(process.StandardError.BaseStream);
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        var feeder = FeedAsync(process.StandardInput.BaseStream, objectIds, deadline.Token);
        var batch = new BlobBatch(process, stderr, feeder, deadline) { _caller = ct };
        // The reads block (see BlockingReads), so a token alone cannot stop one: killing git ends it with end of file.
        batch._kill = deadline.Token.Register(() => batch.Kill());
        return batch;
    }

    private void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    /// <summary>
    /// Reads the next answer's header: it must be the blob <paramref name="objectId"/> of <paramref name="size"/>
    /// bytes. Then read the content from <see cref="Content"/> and call <see cref="EndObjectAsync"/>.
    /// </summary>
    public async Task NextAsync(byte[] objectId, long size, string shownPath)
    {
        var length = 0;
        while (true)
        {
            var read = await _stdout.ReadAsync(_header.AsMemory(length, 1), Token);
            if (read == 0)
            {
                throw await FailureAsync($"git stopped before the content of '{shownPath}'");
            }

            if (_header[length] == (byte)'\n')
            {
                break;
            }

            if (++length == MaxHeaderBytes)
            {
                throw Unexpected(shownPath);
            }
        }

        var expected = string.Create(CultureInfo.InvariantCulture, $"{Convert.ToHexStringLower(objectId)} blob {size}");
        if (Encoding.ASCII.GetString(_header, 0, length) != expected)
        {
            throw Unexpected(shownPath);
        }
    }

    /// <summary>Consumes the line feed that ends an object's content.</summary>
    public async Task EndObjectAsync(string shownPath)
    {
        var read = await _stdout.ReadAsync(_header.AsMemory(0, 1), Token);
        if (read != 1 || _header[0] != (byte)'\n')
        {
            throw Unexpected(shownPath);
        }
    }

    /// <summary>Waits for git to finish after the last object; throws if it failed.</summary>
    public async Task CompleteAsync()
    {
        await _feeder;
        if (await _stdout.ReadAsync(_header.AsMemory(0, 1), Token) != 0)
        {
            throw new WorkspaceException(WorkspaceErrorKind.BuildFailed, "`git cat-file` printed more than was asked for.");
        }

        await _process.WaitForExitAsync(Token);
        _exited = true;
        await _stderr.Completion;
        if (_process.ExitCode != 0)
        {
            throw new WorkspaceException(
                WorkspaceErrorKind.BuildFailed, $"`git cat-file` failed with exit code {_process.ExitCode}: {_stderr.PrintableText().Trim()}");
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _kill.DisposeAsync();
        if (!_exited)
        {
            try
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync(CancellationToken.None);
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
        }

        try
        {
            await _feeder;
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            // The feeder stops when git goes away or the build is cancelled; the build's own error is the one to report.
        }

        await _stderr.DisposeAsync();
        await _stdout.DisposeAsync();
        _process.Dispose();
        _deadline.Dispose();
    }

    private static async Task FeedAsync(Stream stdin, IReadOnlyList<byte[]> objectIds, CancellationToken ct)
    {
        await Task.Yield();
        // Closing the buffer closes git's stdin, which ends the batch once the last answer is printed.
        await using var buffer = new BufferedStream(stdin, 1 << 16);
        var line = new byte[65];
        foreach (var id in objectIds)
        {
            var count = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(id), line);
            line[count] = (byte)'\n';
            await buffer.WriteAsync(line.AsMemory(0, count + 1), ct);
        }
    }

    private async Task<WorkspaceException> FailureAsync(string what)
    {
        // Git ended because the build was cancelled or timed out (the registration killed it): say that, not "git failed".
        _caller.ThrowIfCancellationRequested();
        if (Token.IsCancellationRequested)
        {
            return new WorkspaceException(WorkspaceErrorKind.BuildFailed, $"Reading blobs timed out: {what}.");
        }

        try
        {
            await _process.WaitForExitAsync(Token);
            _exited = true;
            await _stderr.Completion;
        }
        catch (OperationCanceledException)
        {
            // Reported below with what stderr holds so far.
        }

        return new WorkspaceException(WorkspaceErrorKind.BuildFailed, $"Reading blobs failed: {what}: {_stderr.PrintableText().Trim()}");
    }

    private static WorkspaceException Unexpected(string shownPath) =>
        new(WorkspaceErrorKind.BuildFailed, $"`git cat-file` answered unexpectedly for '{shownPath}' (not the blob and size the tree listed).");

    /// <summary>
    /// Git's stdout read with plain blocking <c>read</c> calls, even through the async API. A pipe's own async reads
    /// go through the runtime's event loop and a thread-pool hop per read; git writes a blob at a time, so a 50,000-file
    /// tree made about 120,000 such reads (with as many epoll waits and twice as many yields), which cost more than
    /// the reading. The reader runs on a thread of its own (see <see cref="Build.DirectImageBuild"/>), so blocking it
    /// is what it is for.
    /// </summary>
    private sealed class BlockingReads(Stream pipe) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => pipe.Read(buffer, offset, count);

        public override int Read(Span<byte> buffer) => pipe.Read(buffer);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return ValueTask.FromResult(pipe.Read(buffer.Span));
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                pipe.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
