// Usage: WorkspaceBench STORE REPOSITORY COMMITISH [CALLS] [MEMORY-STAGING-DIR]
// Calls EnsureAsync CALLS times (default 2: cold then warm when the store is empty) in one process and prints one
// JSON line per call, so the benchmark separates process start and JIT from the store's own cost.
// CLEANROOM_BENCH_CHECKOUT_WITH_GIT=1 builds the slower way (git checkout, then mkfs.ext4 -d), for comparison.
using System.Diagnostics;
using System.Runtime.Versioning;
using Cleanroom.Workspaces;

[assembly: SupportedOSPlatform("linux")]

if (args.Length is < 3 or > 5)
{
    Console.Error.WriteLine("usage: WorkspaceBench STORE REPOSITORY COMMITISH [CALLS] [MEMORY-STAGING-DIR]");
    return 2;
}

var store = new WorkspaceImageStore(new WorkspaceStoreOptions
{
    StoreDirectory = args[0],
    MemoryStagingDirectory = args.Length == 5 ? args[4] : null,
    CheckoutWithGit = Environment.GetEnvironmentVariable("CLEANROOM_BENCH_CHECKOUT_WITH_GIT") == "1",
});
var calls = args.Length >= 4 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 2;
for (var i = 0; i < calls; i++)
{
    var clock = Stopwatch.StartNew();
    var image = await store.EnsureAsync(args[1], args[2], CancellationToken.None);
    Console.WriteLine($"{{\"call\":{i},\"built\":{(image.Built ? "true" : "false")},\"ms\":{clock.Elapsed.TotalMilliseconds:0.0},\"path\":\"{image.Path}\"}}");
}

// A new image is made durable in the background (its metadata written last); a process that exits before that leaves
// an image the next process rightly takes for a crash's leftover and rebuilds, as the daemon waits at its stop.
await store.SettledAsync();

return 0;
