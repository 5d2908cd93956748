using Cleanroom.Daemon.Admission;
using Cleanroom.Daemon.Pool;
using Cleanroom.Daemon.Templates;
using Cleanroom.Escaping;
using Cleanroom.Guest.Wire.Host;
using Cleanroom.Images.Quota;
using Cleanroom.Network;
using Cleanroom.Vm;
using Microsoft.Extensions.Logging;

namespace Cleanroom.Daemon.Sandboxes;

/// <summary>The warm pool's side of the manager: making pooled VMs, handing one to a create, and stopping them.</summary>
public sealed partial class SandboxManager
{
    /// <summary>How long the agent of a pooled VM has to answer when a sandbox takes it.</summary>
    private static readonly TimeSpan PoolPingTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How long a create waits for the pooled VM being made for it before restoring its own.</summary>
    private static readonly TimeSpan PoolWait = TimeSpan.FromSeconds(10);

    /// <summary>The pool kind a request can be served from; null when it cannot (a repository or a grown root disk).</summary>
    private PoolRecipe? PoolRecipeFor(SandboxRequest request, Cleanroom.Oci.ImageReference? imageRef, int vcpus, long memoryBytes, Cleanroom.Policy.ResourceFloors floors) =>
        _pool is null || request.Repository is not null || floors.DiskBytes is not null
            ? null
            : new PoolRecipe(imageRef?.Reference ?? "", vcpus, (int)Math.Min(memoryBytes >> 20, int.MaxValue));

    /// <summary>
    /// Makes one pooled VM: a new sandbox id, the image leased, a deny-all network, a restore from the template with
    /// the configuration a warm start sends, and one command run so the first real one finds its paths translated.
    /// Returns null when there is no template for it yet; throws when making it failed (nothing of it is left).
    /// </summary>
    private async Task<PooledVm?> MakePooledVmAsync(PoolRecipe recipe, CancellationToken ct)
    {
        var id = Ids.New();
        var workDir = Path.Combine(SandboxesRoot, id);
        ImageLease? imageLease = null;
        SandboxNetwork? network = null;
        IVm? vm = null;
        AgentClient? agent = null;
        try
        {
            var accel = await _backend.ResolveAccelAsync(ct);
            string? rootImage = null;
            string? digest = null;
            if (SandboxImage.ParseRequested(recipe.ImageRef) is { } imageRef)
            {
                (var image, imageLease) = await _images.EnsureLeasedAsync(imageRef, ct);
                rootImage = image.RootfsPath;
                digest = image.Digest.ToString();
            }

            // Nothing is made until the template is there: while it is built, the pool looks again every second.
            var accelerator = accel.Mode.ToString().ToLowerInvariant();
            var key = PoolKey(accelerator, rootImage, recipe);
            if (!_templates!.HasTemplate(key))
            {
                imageLease?.Dispose();
                return null;
            }

            Directory.CreateDirectory(workDir);
            if (_networks is not null)
            {
                network = await _networks.AttachAsync(id, Cleanroom.Policy.NetworkPolicy.DenyAll, allowAll: false, ct);
            }

            var spec = new VmSpec(id, workDir, _assets(), recipe.Vcpus, recipe.MemoryMiB)
            {
                RootImagePath = rootImage,
                Network = network is null ? null : new VmNetworkInterface(network.Tap, network.Link.Mac),
                ExtraKernelArgs = [.. SandboxIdentityArguments.For(id), .. network?.Link.KernelArguments ?? []],
            };
            var start = new SandboxStart(spec, accelerator);
            try
            {
                (vm, agent) = await StartWarmAsync(start, ct);
            }
            finally
            {
                network?.ReleaseTap();
            }

            if (vm is null || agent is null)
            {
                _logger.LogDebug("warm pool: no VM made: {Reason}", start.Note);
                await UndoPooledAsync(id, workDir, network, imageLease);
                return null;
            }

            var phases = string.Join(", ", start.Phases.Select(p => $"{p.Name} {p.Milliseconds} ms"));
            _logger.LogInformation("warm pool: VM {Id} ready ({Phases})", id, phases);
            return new PooledVm(id, recipe, key, vm, agent, network, imageLease, digest);
        }
        catch
        {
            if (agent is not null)
            {
                await agent.DisposeAsync();
            }

            if (vm is not null)
            {
                await vm.DisposeAsync();
            }

            await UndoPooledAsync(id, workDir, network, imageLease);
            throw;
        }
    }

    /// <summary>
    /// Checked when a sandbox takes a pooled VM (it may have died or stopped answering while it waited): null when
    /// its VM runs and its agent answers a ping within a few seconds, else why not.
    /// </summary>
    private static async Task<string?> PooledVmProblemAsync(PooledVm pooled, CancellationToken ct)
    {
        if (pooled.Vm.Exited.IsCompleted)
        {
            return "its VM exited";
        }

        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bounded.CancelAfter(PoolPingTimeout);
        try
        {
            await pooled.Agent.PingAsync(bounded.Token);
            return null;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return $"its agent did not answer a ping within {PoolPingTimeout.TotalSeconds:0} s";
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            return "its agent connection failed: " + UntrustedText.Escape(ex.Message, 200);
        }
    }

    /// <summary>Stops a pooled VM nobody took and frees what it held. Never throws.</summary>
    private async Task DiscardPooledAsync(PooledVm pooled)
    {
        try
        {
            await pooled.Agent.DisposeAsync();
            await pooled.Vm.DisposeAsync();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _logger.LogWarning("warm pool: stopping VM {Id} failed: {Reason}", pooled.Id, ex.Message);
        }

        await UndoPooledAsync(pooled.Id, pooled.Vm.WorkDir, pooled.Network, pooled.ImageLease);
    }

    private async Task UndoPooledAsync(string id, string workDir, SandboxNetwork? network, ImageLease? imageLease)
    {
        if (network is not null)
        {
            await _networks!.DetachAsync(id);
        }

        imageLease?.Dispose();
        TryDeleteDirectory(workDir);
    }

    /// <summary>Whether a pooled VM of this demand fits beside the sandboxes and the rest of the pool. Called holding the admission gate.</summary>
    private bool PoolFits(SandboxDemand demand)
    {
        try
        {
            _admission.Admit(demand, _entries.Values.Select(e => e.Demand).Concat(_pool!.DemandsHeld()));
            return true;
        }
        catch (DaemonException)
        {
            return false;
        }
    }

    /// <summary>The template a pooled VM of <paramref name="recipe"/> is restored from (no workspace; a card when the daemon has a network).</summary>
    private TemplateKey PoolKey(string accelerator, string? rootImage, PoolRecipe recipe)
    {
        var assets = _assets();
        return TemplateKey.For(_backend.Name, accelerator, assets, rootImage ?? assets.BaseImagePath, recipe.Vcpus, recipe.MemoryMiB, _networks is not null, workspace: false);
    }
}
