using Generalist.Service.Api.V1;
using Google.Rpc;
using Grpc.Core;
using Microsoft.Extensions.Hosting;

namespace Generalist.Service.Tests;

public class SecurityTests
{
    [Fact]
    public async Task Calls_during_shutdown_get_UNAVAILABLE()
    {
        await using var svc = await TestService.StartAsync();
        var runs = svc.Runs();
        await runs.ListRunsAsync(new ListRunsRequest());
        svc.Service<IHostApplicationLifetime>().StopApplication();
        var status = await Rpc.FailsWith(StatusCode.Unavailable, () => runs.ListRunsAsync(new ListRunsRequest()).ResponseAsync);
        Assert.NotNull(status.Detail<RetryInfo>());
    }
}
