#!/usr/bin/env bash
# Regenerates src/gen from proto/ with ts-proto. The output is committed so that `npm install`
# builds without protoc; CI runs this and fails if the committed code differs.
set -euo pipefail
cd "$(dirname "$0")"
command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }
PLUGIN=$(node -e "console.log(require.resolve('ts-proto/protoc-gen-ts_proto'))" 2>/dev/null || true)
[ -n "$PLUGIN" ] || PLUGIN=../node_modules/.bin/protoc-gen-ts_proto
[ -x "$PLUGIN" ] || PLUGIN=../node_modules/.bin/protoc-gen-ts_proto
rm -rf src/gen && mkdir -p src/gen
protoc --plugin=protoc-gen-ts_proto="$PLUGIN" \
  --ts_proto_out=src/gen \
  --ts_proto_opt=outputServices=grpc-js,esModuleInterop=true,useDate=true,importSuffix=.js,useOptionals=none,exportCommonSymbols=false \
  -I proto -I /usr/include \
  proto/picard/v1/*.proto
