// Control API round trips and stream throughput, every protocol, unix socket and HTTPS, one run.
//
// Usage: dotnet run -c Release --project bench/control_api [-- --calls N --stream-mib M]
//
// The daemon runs in a process of its own (this executable again, see BenchDaemon): the control API exactly as
// the daemon wires it, on a unix socket and on https://127.0.0.1 with a generated self-signed certificate, over the
// real sandbox manager, state and output logs with the daemon tests' fake VMs (no QEMU or KVM needed). Before
// serving it runs one command in a fake sandbox that writes M MiB of stdout in 16 KiB chunks into its output log.
//
// Unary: N sequential SystemService.GetVersion calls per protocol and transport on one warm connection (in rounds
// that interleave the protocols, after a warm-up round), p50 and p99 of the round trip, response parsed. Connect (JSON and proto) on HTTP/1.1 and HTTP/2, gRPC
// through the SDK's channel (Grpc.Net.Client, HTTP/2), gRPC-Web (binary, HTTP/1.1).
// Streaming: StreamExecution of that finished output per protocol and transport, read and parsed to the end (the log
// read back from disk, framed, sent, decoded): MiB of stdout per second, the best of a few interleaved rounds.
//
// Wall-clock figures: whatever else runs on the machine shows in them. No assertions on timing.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Cleanroom.Api.V1;
using Cleanroom.ControlApi.Bench;

if (args.Length == 3 && args[0] == BenchDaemon.ServeFlag)
{
    await BenchDaemon.ServeAsync(args[1], long.Parse(args[2], CultureInfo.InvariantCulture));
    return;
}

var calls = Option("--calls", 1000);
var streamMiB = Option("--stream-mib", 16);
const int WarmupCalls = 100;
const int Rounds = 5;
const int StreamRounds = 2;

var root = Directory.CreateTempSubdirectory("cr-ctlbench-").FullName;
try
{
    var started = Stopwatch.StartNew();
    await using var daemon = await DaemonProcess.StartAsync(root, (long)streamMiB << 20);
    Console.WriteLine($"daemon (fake VMs) serving on {daemon.Ready.SocketPath} and {daemon.Ready.Https} after {started.Elapsed.TotalSeconds:0.0} s, {streamMiB} MiB of output logged");
    using var unix = Transport.Unix(daemon.Ready.SocketPath);
    using var https = Transport.Https(daemon.Ready.Https, daemon.Ready.CertificatePath);
    Transport[] transports = [unix, https];

    // Rounds interleave the protocols, so a burst of other load on the machine or the JIT's tiering falls on all of
    // them rather than on whichever ran at that moment; the first round only warms up.
    var combos = Protocol.All.SelectMany(p => transports.Select(t => (Protocol: p, Transport: t))).ToList();
    var samples = combos.ToDictionary(c => c, _ => new List<double>());
    for (var round = 0; round <= Rounds; round++)
    {
        foreach (var combo in combos)
        {
            for (var i = 0; i < (round == 0 ? WarmupCalls : calls / Rounds); i++)
            {
                var start = Stopwatch.GetTimestamp();
                await combo.Protocol.UnaryAsync(combo.Transport);
                if (round > 0)
                {
                    samples[combo].Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
                }
            }
        }
    }

    Console.WriteLine();
    Console.WriteLine($"Unary round trip, SystemService.GetVersion, {calls} sequential calls each in {Rounds} interleaved rounds (microseconds)");
    Console.WriteLine($"{"protocol",-14} {"HTTP",-5} {"unix p50",9} {"unix p99",9} {"https p50",10} {"https p99",10}");
    foreach (var protocol in Protocol.All)
    {
        var cells = transports.SelectMany(t =>
        {
            var sorted = samples[(protocol, t)].Order().ToArray();
            var width = t == unix ? 9 : 10;
            return new[] { Percentile(sorted, 0.50), Percentile(sorted, 0.99) }.Select(v => v.ToString("0", CultureInfo.InvariantCulture).PadLeft(width));
        });
        Console.WriteLine($"{protocol.Name,-14} {Http(protocol.Http),-5} {string.Join(' ', cells)}");
    }

    var request = new StreamExecutionRequest { SandboxId = daemon.Ready.SandboxId, ExecutionId = daemon.Ready.ExecutionId };
    var expected = (long)streamMiB << 20;
    var rates = combos.ToDictionary(c => c, _ => 0.0);
    for (var round = 0; round < StreamRounds; round++)
    {
        foreach (var combo in combos)
        {
            var start = Stopwatch.GetTimestamp();
            var received = await combo.Protocol.StreamAsync(combo.Transport, request);
            var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (received != expected)
            {
                throw new InvalidOperationException($"{combo.Protocol.Name} over {combo.Transport.Name} received {received} of {expected} bytes");
            }

            rates[combo] = Math.Max(rates[combo], received / 1048576.0 / seconds);
        }
    }

    Console.WriteLine();
    Console.WriteLine($"Server streaming, StreamExecution of a finished {streamMiB} MiB output (16 KiB messages), best of {StreamRounds} interleaved rounds, MiB/s");
    Console.WriteLine($"{"protocol",-14} {"HTTP",-5} {"unix",9} {"https",10}");
    foreach (var protocol in Protocol.All)
    {
        var cells = transports.Select(t => rates[(protocol, t)].ToString("0", CultureInfo.InvariantCulture).PadLeft(t == unix ? 9 : 10));
        Console.WriteLine($"{protocol.Name,-14} {Http(protocol.Http),-5} {string.Join(' ', cells)}");
    }
}
finally
{
    Directory.Delete(root, recursive: true);
}

int Option(string name, int fallback)
{
    var at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
}

static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

static string Http(Version version) => version == HttpVersion.Version11 ? "1.1" : "2";
