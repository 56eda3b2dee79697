#!/bin/sh
# The tutorial's endpoint_3/invoke.sh with `az ml` replaced by `scorepoint`:
# run it from this folder (cd deploy/examples/endpoint_3; sh invoke.sh) while
# `scorepoint serve` runs.
ENDPOINT_NAME=endpoint-online-3

SCORING_URI=$(scorepoint online-endpoint show --name $ENDPOINT_NAME --query scoring_uri -o tsv)
echo "SCORING_URI: $SCORING_URI"

ACCESS_TOKEN=$(scorepoint online-endpoint get-credentials --name $ENDPOINT_NAME --query accessToken -o tsv)
echo "ACCESS_TOKEN: $ACCESS_TOKEN"

OUTPUT=$(curl --location \
     --request POST $SCORING_URI \
     --header "Authorization: Bearer $ACCESS_TOKEN" \
     --header "Content-Type: application/json" \
     --data @../test_data/images_azureml.json)
echo "OUTPUT: $OUTPUT"
