using Cleanroom.Client;

namespace Cleanroom.Cli.Tests;

/// <summary>Runs the CLI in-process with captured streams and a private environment (never the test process's).</summary>
internal sealed class CliHarness : IDisposable
{
    private CliContext? _context;

    public CliHarness(string? host = null)
    {
        if (host is not null)
        {
            Environment[EndpointResolver.HostVariable] = host;
        }
    }

    public Dictionary<string, string> Environment { get; } = new(StringComparer.Ordinal);

    public CaptureStream Stdout { get; init; } = new();

    public CaptureStream Stderr { get; } = new();

    public Stream Stdin { get; init; } = Stream.Null;

    public bool StdinIsTerminal { get; init; }

    public bool StdinIsNull { get; init; }

    public bool StdoutIsTerminal { get; init; }

    public bool StderrIsTerminal { get; init; }

    public LocalUser User { get; init; } = new(1000);

    /// <summary>The CLI's working directory: by default one outside any git repository, so no checkout is asked for.</summary>
    public string WorkingDirectory { get; init; } = Path.GetTempPath();

    /// <summary>Created on first use, after the init-only settings above.</summary>
    public CliContext Context => _context ??= new CliContext(Stdout, Stderr, Stdin)
    {
        StdinIsTerminal = StdinIsTerminal,
        StdinIsNull = StdinIsNull,
        StdoutIsTerminal = StdoutIsTerminal,
        StderrIsTerminal = StderrIsTerminal,
        StderrColumns = StderrIsTerminal ? 120 : 0,
        TerminalColumns = StdoutIsTerminal ? 120 : 0,
        TerminalRows = StdoutIsTerminal ? 40 : 0,
        Environment = name => Environment.GetValueOrDefault(name),
        User = User,
        WorkingDirectory = WorkingDirectory,
    };

    public string Out => Stdout.Text;

    public string Err => Stderr.Text;

    public Task<int> RunAsync(params string[] args) => CliApp.RunAsync(args, Context);

    public void Dispose() => _context?.Dispose();
}
