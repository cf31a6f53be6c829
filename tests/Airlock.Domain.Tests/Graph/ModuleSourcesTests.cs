using Airlock.Domain.Graph;

namespace Airlock.Domain.Tests.Graph;

public class ModuleSourcesTests
{
    [Fact]
    public void Module_block_sources_are_found_and_other_sources_are_not()
    {
        const string hcl = """
            terraform {
              required_providers {
                aws = { source = "hashicorp/aws", version = "~> 5.0" }
              }
            }

            module "vpc" {
              source  = "../../modules/vpc"
              cidr    = "10.0.0.0/16"
              tags    = { source = "./not-a-module" }
            }

            module "dns" {
              source = "terraform-aws-modules/route53/aws"
            }

            resource "aws_s3_bucket" "b" {
              source = "./also-not"
            }

            module "local" { source = "./sub" }
            """;

        var sources = ModuleSources.FromHcl(hcl);

        Assert.Equal(["../../modules/vpc", "terraform-aws-modules/route53/aws", "./sub"], sources.ToArray());
        Assert.Equal(["../../modules/vpc", "./sub"], sources.Where(ModuleSources.IsLocal).ToArray());
    }

    [Fact]
    public void Comments_heredocs_and_templates_do_not_confuse_block_structure()
    {
        const string hcl = """
            # module "commented" { source = "./hash" }
            // module "slashed" { source = "./slash" }
            /* module "block" {
                 source = "./block" } */
            locals {
              text = <<-EOT
                module "heredoc" { source = "./heredoc" }
                }}}
              EOT
              name = "${format("%s-}", "x")}"
            }

            module "real" {
              source = "../shared/real" # trailing comment }
              count  = var.enabled == true ? 1 : 0
            }

            module "templated" {
              source = "./${var.where}"
            }
            """;

        Assert.Equal(["../shared/real"], ModuleSources.FromHcl(hcl).ToArray());
    }

    [Fact]
    public void Json_syntax_module_sources_are_found_in_object_and_array_forms()
    {
        const string json = """
            {
              "module": {
                "vpc": { "source": "../modules/vpc", "cidr": "10.0.0.0/16" },
                "dns": [{ "source": "git::https://example.com/dns.git" }]
              },
              "resource": { "null_resource": { "x": { "source": "./nope" } } }
            }
            """;
        const string arrayForm = """{ "module": [ { "a": { "source": "./a" } }, { "b": { "source": "./b" } } ] }""";

        Assert.Equal(["../modules/vpc", "git::https://example.com/dns.git"], ModuleSources.FromJson(json).ToArray());
        Assert.Equal(["./a", "./b"], ModuleSources.FromJson(arrayForm).ToArray());
        Assert.Empty(ModuleSources.FromJson("{ not json"));
    }

    [Theory]
    [InlineData("./x", true)]
    [InlineData("../x", true)]
    [InlineData("../../x/y", true)]
    [InlineData("x/y/aws", false)]
    [InlineData("git::https://example.com/x.git", false)]
    [InlineData("github.com/acme/x", false)]
    [InlineData(".x", false)]
    [InlineData("/abs/path", false)]
    public void Only_dot_slash_and_dot_dot_slash_are_local(string source, bool local)
    {
        Assert.Equal(local, ModuleSources.IsLocal(source));
    }
}
