// The SDK quickstart: one sandbox per key (reused on the next run), a command whose output streams to this console,
// and a file brought back. Run with a daemon up: `dotnet run --project examples/sdk-quickstart [KEY]`.
// Ctrl-C kills the remote command (the token below is cancelled) and ends the program.
using System.Text;
using Cleanroom.Client;
using Cleanroom.Client.Sdk;
using Grpc.Core;

var key = args.Length > 0 ? args[0] : "sdk-quickstart";
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

// The daemon the CLI would use: CLEANROOM_HOST, CLEANROOM_SOCKET or the default socket (TLS from CLEANROOM_TLS_*).
using var client = CleanroomClient.Connect();
try
{
    var sandbox = await client.EnsureSandboxAsync(key, new SandboxCreateOptions { Vcpus = 1, MemoryMiB = 512 }, stop.Token);
    Console.Error.WriteLine($"{(sandbox.Created ? "created" : "reused")} sandbox {sandbox.SandboxId} for key '{key}'");

    var script = "for i in 1 2 3; do echo step $i; sleep 1; done; echo to-stderr >&2; uname -a > /tmp/uname.txt";
    var result = await client.ExecAsync(sandbox.SandboxId, ["sh", "-c", script], Console.Out, Console.Error, cancellationToken: stop.Token);
    Console.Error.WriteLine($"exit code {result.ExitCode} (execution {result.ExecutionId})");

    var uname = await client.DownloadFileAsync(sandbox.SandboxId, "/tmp/uname.txt", cancellationToken: stop.Token);
    Console.WriteLine("downloaded /tmp/uname.txt: " + Encoding.UTF8.GetString(uname).TrimEnd());

    // The sandbox stays for the next run with this key; `cleanroom sandbox rm ID` (or TerminateSandboxAsync) removes it.
    return result.ExitCode;
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("cancelled: the command was killed");
    return 130;
}
catch (RpcException ex)
{
    Console.Error.WriteLine($"error ({DaemonErrors.ReasonCode(ex) ?? ex.StatusCode.ToString()}): {DaemonErrors.Describe(ex, client.Endpoint)}");
    return 1;
}
