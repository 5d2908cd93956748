namespace Cleanroom.IntegrationTests;

/// <summary>Waits for a daemon's VM template to be handed out (its directory's ready marker).</summary>
public static class TemplateWait
{
    /// <summary>Returns the directory of the first template in <paramref name="stateDir"/> that creates use.</summary>
    public static async Task<string> ReadyAsync(string stateDir, TimeSpan? timeout = null)
    {
        var root = Path.Combine(stateDir, "templates");
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(120));
        while (DateTime.UtcNow < deadline)
        {
            var ready = Directory.Exists(root) ? Directory.GetDirectories(root).FirstOrDefault(d => File.Exists(Path.Combine(d, "ready"))) : null;
            if (ready is not null)
            {
                return ready;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"no template in {root} became ready");
    }
}
