using System.Text;
using Cleanroom.Client;
using Microsoft.Win32.SafeHandles;

namespace Cleanroom.Cli;

/// <summary>
/// Everything the CLI touches outside itself — standard streams, terminal facts, environment, user, interrupts —
/// so that tests run commands in-process against their own streams.
/// </summary>
public sealed class CliContext : IDisposable
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    public CliContext(Stream stdout, Stream stderr, Stream stdin)
    {
        Stdout = stdout;
        Stderr = stderr;
        Stdin = stdin;
        // Text and raw bytes go to the same streams; flushing every write keeps their order.
        Out = new StreamWriter(stdout, Utf8, bufferSize: 4096, leaveOpen: true) { AutoFlush = true, NewLine = "\n" };
        Error = new StreamWriter(stderr, Utf8, bufferSize: 4096, leaveOpen: true) { AutoFlush = true, NewLine = "\n" };
    }

    /// <summary>Raw standard output: the guest command's stdout bytes are written here unchanged.</summary>
    public Stream Stdout { get; }

    public Stream Stderr { get; }

    public Stream Stdin { get; }

    /// <summary>
    /// The descriptors behind <see cref="Stdout"/> and <see cref="Stderr"/> when they are this process's own (null when a
    /// test passes its own streams): a command's output read from the daemon's log goes there by the kernel.
    /// </summary>
    public SafeFileHandle? StdoutFile { get; init; }

    public SafeFileHandle? StderrFile { get; init; }

    /// <summary>Text view of <see cref="Stdout"/>.</summary>
    public TextWriter Out { get; }

    /// <summary>Text view of <see cref="Stderr"/>.</summary>
    public TextWriter Error { get; }

    public bool StdinIsTerminal { get; init; }

    /// <summary>Stdin is /dev/null: there is no input to forward, and a command given none reads end of file at once.</summary>
    public bool StdinIsNull { get; init; }

    public bool StdoutIsTerminal { get; init; }

    /// <summary>Progress bars go to stderr, so they depend on it being a terminal, not on stdout.</summary>
    public bool StderrIsTerminal { get; init; }

    /// <summary>Terminal size when stdout is a terminal; 0 otherwise.</summary>
    public int TerminalColumns { get; init; }

    public int TerminalRows { get; init; }

    /// <summary>Terminal width when stderr is a terminal; 0 otherwise.</summary>
    public int StderrColumns { get; init; }

    public Func<string, string?> Environment { get; init; } = _ => null;

    public LocalUser User { get; init; } = LocalUser.Current;

    /// <summary>Where relative paths start and whose git repository a new sandbox checks out by default.</summary>
    public string WorkingDirectory { get; init; } = Directory.GetCurrentDirectory();

    /// <summary>The clock relative times ("3 minutes ago") are measured against.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    public InterruptSignal Interrupts { get; } = new();

    /// <summary>Whether the descriptor link <paramref name="descriptorLink"/> (/proc/self/fd/N) names /dev/null.</summary>
    public static bool IsNullDevice(string descriptorLink)
    {
        try
        {
            return File.ResolveLinkTarget(descriptorLink, returnFinalTarget: false)?.FullName == "/dev/null";
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The context of this process: console streams, real terminal and environment.</summary>
    public static CliContext FromProcess()
    {
        var stdoutIsTerminal = !Console.IsOutputRedirected;
        var stderrIsTerminal = !Console.IsErrorRedirected;
        return new CliContext(Console.OpenStandardOutput(), Console.OpenStandardError(), Console.OpenStandardInput())
        {
            StdoutFile = new SafeFileHandle(1, ownsHandle: false),
            StderrFile = new SafeFileHandle(2, ownsHandle: false),
            StdinIsTerminal = !Console.IsInputRedirected,
            StdinIsNull = IsNullDevice("/proc/self/fd/0"),
            StdoutIsTerminal = stdoutIsTerminal,
            StderrIsTerminal = stderrIsTerminal,
            StderrColumns = stderrIsTerminal ? SafeSize(() => Console.WindowWidth) : 0,
            TerminalColumns = stdoutIsTerminal ? SafeSize(() => Console.WindowWidth) : 0,
            TerminalRows = stdoutIsTerminal ? SafeSize(() => Console.WindowHeight) : 0,
            Environment = System.Environment.GetEnvironmentVariable,
        };
    }

    /// <summary>Writes one <c>cleanroom: ...</c> line to stderr; a closed stderr is not worth failing over.</summary>
    public void Complain(string message)
    {
        try
        {
            Error.WriteLine("cleanroom: " + message);
        }
        catch (IOException)
        {
        }
    }

    public void Dispose()
    {
        Out.Dispose();
        Error.Dispose();
        Interrupts.Dispose();
    }

    private static int SafeSize(Func<int> read)
    {
        try
        {
            return Math.Max(0, read());
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
