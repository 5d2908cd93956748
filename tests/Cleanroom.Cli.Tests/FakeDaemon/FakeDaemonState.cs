using System.Collections.Concurrent;
using Cleanroom.Api.V1;

namespace Cleanroom.Cli.Tests.FakeDaemon;

/// <summary>
/// What the fake daemon knows and what it was asked. NOT the real daemon: a stand-in with canned behaviour for
/// client-side tests only (see <see cref="FakeCleanroomDaemon"/>).
/// </summary>
internal sealed class FakeDaemonState
{
    private int _next;

    public ConcurrentDictionary<string, Sandbox> Sandboxes { get; } = new();

    public ConcurrentDictionary<string, FakeExecution> Executions { get; } = new();

    public ConcurrentQueue<string> Terminated { get; } = new();

    public ConcurrentQueue<ListExecutionsRequest> ListExecutionsRequests { get; } = new();

    public ConcurrentQueue<GetExecutionRequest> GetExecutionRequests { get; } = new();

    public ConcurrentQueue<StreamExecutionRequest> StreamExecutionRequests { get; } = new();

    /// <summary>Hold "gated" commands after their first line until a test releases them; keyed by command line.</summary>
    public ConcurrentDictionary<string, TaskCompletionSource> Gates { get; } = new();

    public ConcurrentQueue<CreateSandboxRequest> CreateRequests { get; } = new();

    /// <summary>Image store contents by digest.</summary>
    public ConcurrentDictionary<string, Image> Images { get; } = new();

    public ConcurrentQueue<string> PullRequests { get; } = new();

    public ConcurrentQueue<FakeImport> Imports { get; } = new();

    /// <summary>"Method argument" for the calls whose order matters (PullImage, ResolveImage, CreateSandbox, and the execution calls by name).</summary>
    public ConcurrentQueue<string> Calls { get; } = new();

    /// <summary>The fake daemon's own directory (removed with it): where it keeps the output logs it serves.</summary>
    public string Directory { get; set; } = "";

    /// <summary>While set, RunExecution answers UNIMPLEMENTED, as a daemon from before it would.</summary>
    public bool WithoutRunExecution { get; set; }

    /// <summary>Completes when a PullImage of a "hang" image (which never finishes) arrived.</summary>
    public TaskCompletionSource HangingPullStarted { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when a CreateSandbox for the image "slow" (which never finishes) arrived.</summary>
    public TaskCompletionSource SlowCreateStarted { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Fails the next CreateSandbox calls with this detail (FAILED_PRECONDITION) while set.</summary>
    public string? CreateSandboxError { get; set; }

    /// <summary>Executions by their whole command line (tests make them unique); completes once it is created.</summary>
    public ConcurrentDictionary<string, TaskCompletionSource<FakeExecution>> Started { get; } = new();

    public void Log(string call) => Calls.Enqueue(call);

    /// <summary>The logged calls whose argument is <paramref name="argument"/>, in order: tests use unique refs.</summary>
    public IReadOnlyList<string> CallsWith(string argument) =>
        [.. Calls.Where(call => call.EndsWith(" " + argument, StringComparison.Ordinal))];

    public string NextId(string prefix) =>
        // 26 characters like the real (ULID) ids, unique within a test run.
        prefix + Interlocked.Increment(ref _next).ToString("d25", System.Globalization.CultureInfo.InvariantCulture);

    public TaskCompletionSource Gate(string commandLine) =>
        Gates.GetOrAdd(commandLine, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    public TaskCompletionSource<FakeExecution> StartedSource(string commandLine) =>
        Started.GetOrAdd(commandLine, _ => new TaskCompletionSource<FakeExecution>(TaskCreationOptions.RunContinuationsAsynchronously));

    public Task<FakeExecution> WaitStartedAsync(string commandLine) => StartedSource(commandLine).Task.WaitAsync(TimeSpan.FromSeconds(20));
}
