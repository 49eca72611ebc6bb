return SharpTransformer.Cli.SharptCli.Run(args);
