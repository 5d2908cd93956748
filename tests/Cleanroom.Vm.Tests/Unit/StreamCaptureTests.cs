using System.Text;
using Cleanroom.HostProcesses;

namespace Cleanroom.Vm.Tests.Unit;

/// <summary>The console capture a restarted daemon continues: the file goes on, and its limit still holds.</summary>
public sealed class StreamCaptureTests
{
    [Fact]
    public async Task An_appending_capture_continues_the_file_and_counts_what_was_there_against_the_limit()
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, "first daemon\n");
            await using (var capture = new StreamCapture(1024, file, fileLimitBytes: 20, append: true))
            {
                capture.Start(new MemoryStream(Encoding.UTF8.GetBytes("second daemon and much more\n")));
                await capture.Completion;
            }

            var text = await File.ReadAllTextAsync(file);
            Assert.Equal("first daemon\nsecond ", text); // 13 bytes were there; 7 more fit under the limit of 20
        }
        finally
        {
            File.Delete(file);
        }
    }
}
