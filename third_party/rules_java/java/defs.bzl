"""Offline stand-in for @rules_java//java:defs.bzl: re-exports Bazel's native Java rules.

Bazel parses @bazel_tools//tools/jdk while resolving toolchains, even for C++-only targets, and that
package loads this file. Polymix compiles JVM code with the JDK's javac, not with these rules.
"""

java_binary = native.java_binary
java_import = native.java_import
java_library = native.java_library
java_plugin = native.java_plugin
java_runtime = native.java_runtime
java_test = native.java_test
java_toolchain = native.java_toolchain
