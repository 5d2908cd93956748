using Cleanroom.Api.V1;
using Cleanroom.Oci;
using Cleanroom.Policy;
using Cleanroom.TestSupport;
using Grpc.Core;

namespace Cleanroom.IntegrationTests;

/// <summary>Images pulled from a real registry boot, and the guest sees exactly the tree the layers describe.</summary>
[Collection(ImageTestGroup.Name)]
public sealed class ImageBootTests(ImageEnvironment env)
{
    private const long BigFileBytes = 100L << 20;
    private const int BigFileSeed = 42;

    [Fact]
    public async Task The_guest_sees_exactly_the_tree_the_layers_describe()
    {
        var image = new OciImageBuilder(env.BlobDirectory)
            .WithEnv("PATH=/bin", "FOO=from-image")
            .WithWorkingDir("/t")
            .WithUser("1000")
            .AddLayer(ImageEnvironment.Busybox)
            .AddLayer(l => l.Directory("t").Directory("t/lower").File("t/lower/a", "a1\n").File("t/lower/b", "b1\n")
                .File("t/gone.txt", "doomed\n").Directory("t/opq").File("t/opq/old", "old\n").Directory("t/dir-gone").File("t/dir-gone/x", "x"))
            .AddLayer(
                l => l.Whiteout("t/gone.txt").Whiteout("t/dir-gone").OpaqueDirectory("t/opq").File("t/opq/new", "new\n")
                    .Hardlink("t/hard", "t/lower/a").Symlink("t/link", "lower/b")
                    .Directory("t/owned", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute, uid: 1234, gid: 5678)
                    .File("t/suid", "#!/bin/sh\n", LayerContents.FileMode755 | UnixFileMode.SetUser)
                    .BigFile("t/big.bin", BigFileBytes, BigFileSeed),
                LayerCompression.Zstd)
            .AddLayer(l => l.File("t/lower/b", "b2\n"), LayerCompression.None)
            .Build();
        var pinned = await env.PushAsync("it/tree", "v1", image);

        var events = await PullAsync(pinned);
        var sandbox = (await env.Daemon.Sandboxes.CreateSandboxAsync(new CreateSandboxRequest { ImageRef = pinned })).Sandbox;
        try
        {
            var tree = await RunAsync(sandbox.SandboxId, "find . | sort");
            var meta = await RunAsync(sandbox.SandboxId, "stat -c '%n %a %u %g %h' owned suid hard lower/a; readlink link; cat link opq/new");
            var sum = await RunAsync(sandbox.SandboxId, "sha256sum big.bin; stat -c %s big.bin");
            var defaults = await RunAsync(sandbox.SandboxId, "echo $FOO; pwd; id -u; ls -d /proc/1 /dev/null");

            Assert.Equal(
                [".", "./big.bin", "./hard", "./link", "./lower", "./lower/a", "./lower/b", "./opq", "./opq/new", "./owned", "./suid"],
                tree.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Equal("owned 750 1234 5678 2\nsuid 4755 0 0 1\nhard 644 0 0 2\nlower/a 644 0 0 2\nlower/b\nb2\nnew\n", meta);
            Assert.Equal($"{DeterministicContentStream.DigestOf(BigFileBytes, BigFileSeed).Hex}  big.bin\n{BigFileBytes}\n", sum);
            Assert.Equal("from-image\n/t\n1000\n/dev/null\n/proc/1\n", defaults);
        }
        finally
        {
            await env.Daemon.Sandboxes.TerminateSandboxAsync(new TerminateSandboxRequest { SandboxId = sandbox.SandboxId });
        }

        Assert.Equal(image.ManifestDigest.ToString(), sandbox.ImageDigest);
        var last = events[^1];
        Assert.False(last.Cached);
        Assert.Equal(image.ManifestDigest.ToString(), last.Image.Digest);
        Assert.Contains(events, e => e.Phase == PullPhase.Downloading && e.Layers.Count == 4);
        Assert.True((await PullAsync(pinned))[^1].Cached);
    }

    [Fact]
    public async Task The_policy_image_is_used_and_its_disk_floor_grows_the_root_disk()
    {
        var image = new OciImageBuilder(env.BlobDirectory).AddLayer(ImageEnvironment.Busybox).WithEnv("PATH=/bin").Build();
        var pinned = await env.PushAsync("it/policy", "v1", image);
        var policy = PolicyCompiler.Compile(
            $"""
            version: 1
            sandbox:
              image:
                ref: {pinned}
              resources:
                disk: 2GiB
            """,
            "cleanroom.yaml").Policy!;

        var sandbox = (await env.Daemon.Sandboxes.CreateSandboxAsync(new CreateSandboxRequest { CompiledPolicy = policy.ToJson() })).Sandbox;
        try
        {
            var df = await RunAsync(sandbox.SandboxId, "df -k / | tail -n 1");
            var totalKiB = long.Parse(df.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);

            Assert.Equal(pinned, sandbox.ImageRef);
            Assert.InRange(totalKiB, 1900L * 1024, 2100L * 1024);
        }
        finally
        {
            await env.Daemon.Sandboxes.TerminateSandboxAsync(new TerminateSandboxRequest { SandboxId = sandbox.SandboxId });
        }

        var cached = (await env.Daemon.Images.ListImagesAsync(new ListImagesRequest())).Images.Single(i => i.Digest == image.ManifestDigest.ToString());
        Assert.True(cached.FilesystemBytes < 1L << 30, "the cached image itself is not grown");
    }

    [Fact]
    public async Task An_image_in_use_cannot_be_removed_until_its_sandbox_is_gone()
    {
        var image = new OciImageBuilder(env.BlobDirectory).AddLayer(ImageEnvironment.Busybox).AddLayer(l => l.File("marker", "rm-test")).Build();
        var pinned = await env.PushAsync("it/rm", "v1", image);
        var sandbox = (await env.Daemon.Sandboxes.CreateSandboxAsync(new CreateSandboxRequest { ImageRef = pinned })).Sandbox;

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await env.Daemon.Images.RemoveImageAsync(new RemoveImageRequest { Selector = pinned }));
        await env.Daemon.Sandboxes.TerminateSandboxAsync(new TerminateSandboxRequest { SandboxId = sandbox.SandboxId });
        var removed = (await env.Daemon.Images.RemoveImageAsync(new RemoveImageRequest { Selector = image.ManifestDigest.Hex[..12] })).Image;

        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains(sandbox.SandboxId, refused.Status.Detail, StringComparison.Ordinal);
        Assert.False(File.Exists(removed.RootfsPath));
    }

    [Fact]
    public async Task Pull_errors_carry_a_reason_code_and_a_hostile_image_leaves_nothing_in_the_store()
    {
        var hostile = new OciImageBuilder(env.BlobDirectory)
            .AddLayer(ImageEnvironment.Busybox)
            .AddLayer(l => l.File("zeros", new DeterministicContentStream(ImageEnvironment.ImageLimitBytes + (1L << 20), 3)), LayerCompression.Zstd)
            .Build();
        var pinned = await env.PushAsync("it/bomb", "v1", hostile);
        var before = (await env.Daemon.Images.ListImagesAsync(new ListImagesRequest())).Images.Count;

        var missing = await Assert.ThrowsAsync<RpcException>(() => PullAsync(env.Registry.Reference("it/nothing:here")));
        var bomb = await Assert.ThrowsAsync<RpcException>(() => PullAsync(pinned));
        var create = await Assert.ThrowsAsync<RpcException>(async () => await env.Daemon.Sandboxes.CreateSandboxAsync(new CreateSandboxRequest { ImageRef = pinned }));

        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        Assert.StartsWith("image_not_found:", missing.Status.Detail, StringComparison.Ordinal);
        // Its (incompressible) layers declare more than the image limit: refused from the manifest, before any download.
        Assert.Equal(StatusCode.FailedPrecondition, bomb.StatusCode);
        Assert.StartsWith("image_too_large:", bomb.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("MaxTotalBytes", bomb.Status.Detail, StringComparison.Ordinal);
        Assert.StartsWith("image_too_large:", create.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(before, (await env.Daemon.Images.ListImagesAsync(new ListImagesRequest())).Images.Count);
        var store = Path.Combine(env.Daemon.StateDir, "images");
        var known = KnownImages();
        Assert.All(Directory.EnumerateFiles(Path.Combine(store, "rootfs")), f => Assert.Contains(f, known));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(store, "downloads")));
        Assert.True(!Directory.Exists(Path.Combine(store, "staging")) || !Directory.EnumerateFileSystemEntries(Path.Combine(store, "staging")).Any());
    }

    [Fact]
    public async Task The_debian_base_image_imports_and_runs_git_curl_and_bash()
    {
        Assert.True(File.Exists(RepoPaths.DebianImage), $"{RepoPaths.DebianImage} is missing: scripts/test.sh builds it with scripts/build-debian-image.sh");
        using var call = env.Daemon.Images.ImportImage();
        await using (var file = File.OpenRead(RepoPaths.DebianImage))
        {
            var buffer = new byte[1 << 20];
            var first = true;
            int n;
            while ((n = await file.ReadAsync(buffer)) > 0)
            {
                await call.RequestStream.WriteAsync(new ImportImageChunk { Ref = first ? "debian-base:bookworm" : "", Data = Google.Protobuf.ByteString.CopyFrom(buffer, 0, n) });
                first = false;
            }
        }

        await call.RequestStream.CompleteAsync();
        var imported = (await call).Image;
        var sandbox = (await env.Daemon.Sandboxes.CreateSandboxAsync(new CreateSandboxRequest { ImageRef = "debian-base:bookworm" })).Sandbox;
        try
        {
            var output = await RunAsync(sandbox.SandboxId, "bash -c 'git --version; curl --version | head -n 1 | cut -d\" \" -f1; cat /etc/debian_version | cut -d. -f1; pwd; test -s /etc/ssl/certs/ca-certificates.crt && echo certs'");

            Assert.Equal("git version", output.Split('\n')[0][..11]);
            Assert.Equal(["curl", "12", "/workspace", "certs"], output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1..]);
        }
        finally
        {
            await env.Daemon.Sandboxes.TerminateSandboxAsync(new TerminateSandboxRequest { SandboxId = sandbox.SandboxId });
        }

        Assert.Equal("import", imported.Source);
        Assert.Contains("debian-base:bookworm", imported.Refs);
    }

    private HashSet<string> KnownImages() =>
        env.Daemon.Images.ListImages(new ListImagesRequest()).Images.Select(i => i.RootfsPath).ToHashSet(StringComparer.Ordinal);

    private async Task<List<PullImageEvent>> PullAsync(string reference)
    {
        using var call = env.Daemon.Images.PullImage(new PullImageRequest { Ref = reference });
        var events = new List<PullImageEvent>();
        await foreach (var e in call.ResponseStream.ReadAllAsync())
        {
            events.Add(e);
        }

        return events;
    }

    private async Task<string> RunAsync(string sandboxId, string script)
    {
        var result = await ExecResult.RunAsync(env.Daemon.Executions, sandboxId, ["sh", "-c", script]);
        Assert.True(result.Exit.ExitCode == 0, $"`{script}` failed ({result.Exit.ExitCode}): {result.StderrText}");
        return result.StdoutText;
    }
}
