using Cleanroom.GuestAgent.Init;

namespace Cleanroom.GuestAgent.Tests;

public sealed class StepTimingsTests
{
    [Fact]
    public void A_step_run_beside_is_listed_in_order_with_its_own_time()
    {
        var timings = new StepTimings();
        timings.Mark("workspace");
        timings.Mark("network wait");
        timings.Beside("network", TimeSpan.FromMilliseconds(26.5));
        timings.Mark("port");

        var line = timings.ToString();
        Assert.Matches(@"^workspace \d+\.\d ms, network wait \d+\.\d ms, network beside 26\.5 ms, port \d+\.\d ms \(total \d+\.\d ms\)$", line);
    }
}
