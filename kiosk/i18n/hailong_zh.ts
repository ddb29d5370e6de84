<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>hailong</name>
    <message><source>Please rate the service you received</source><translation>请评价您刚才接受的服务</translation></message>
    <message><source>Scan the QR code on your receipt, or type the dossier code</source><translation>请扫描回执上的二维码，或输入档案编号</translation></message>
    <message><source>How satisfied are you with the service?</source><translation>您对本次服务满意吗？</translation></message>
    <message><source>Please tell us why you were not satisfied (choose one or more)</source><translation>请告诉我们您不满意的原因（可多选）</translation></message>
    <message><source>Your comment (optional)</source><translation>您的意见（可选）</translation></message>
    <message><source>Thank you for your feedback!</source><translation>感谢您的评价！</translation></message>
    <message><source>Saving…</source><translation>正在保存…</translation></message>
    <message><source>This dossier has already been rated. Thank you!</source><translation>该档案已经评价过了。谢谢！</translation></message>
    <message><source>Please scan the QR code on your receipt or type the dossier code.</source><translation>请扫描回执上的二维码或输入档案编号。</translation></message>
    <message><source>Please wait a moment before rating again.</source><translation>请稍候再进行下一次评价。</translation></message>
    <message><source>The kiosk could not save your rating. Please tell an officer.</source><translation>本机未能保存您的评价，请告知工作人员。</translation></message>
    <message><source>The phone number is not valid (8–15 digits).</source><translation>电话号码无效（应为8至15位数字）。</translation></message>
    <message><source>Please tick the consent box for a call back, or clear the phone number.</source><translation>如需回电请勾选同意，或清除电话号码。</translation></message>
    <message><source>No dossier code was given.</source><translation>未输入档案编号。</translation></message>
    <message><source>The scanned text is too long.</source><translation>扫描的内容过长。</translation></message>
    <message><source>This is not a receipt code. Please check it.</source><translation>这不是回执编号，请检查。</translation></message>
    <message><source>Invalid receipt (signature mismatch). Please ask an officer.</source><translation>回执无效（签名不符），请咨询工作人员。</translation></message>
    <message><source>The receipt was signed with an unknown key. Please ask an officer.</source><translation>回执的签名密钥无效，请咨询工作人员。</translation></message>
    <message><source>This receipt can no longer be rated (its signing key was replaced). Please ask an officer.</source><translation>该回执已超过评价期限（签名密钥已更换），请咨询工作人员。</translation></message>
    <message><source>This receipt is too old to be rated. Please ask an officer.</source><translation>该回执时间过久，已无法评价，请咨询工作人员。</translation></message>
    <message><source>This receipt belongs to another unit.</source><translation>该回执属于其他单位。</translation></message>
    <message><source>The receipt was signed with a revoked key. Please ask an officer.</source><translation>回执的签名密钥已被撤销，请咨询工作人员。</translation></message>
    <message><source>An old-style receipt whose signature cannot be checked here. Please type the dossier code.</source><translation>旧式回执，此处无法核验签名，请输入档案编号。</translation></message>
    <message><source>Very satisfied</source><translation>非常满意</translation></message>
    <message><source>Satisfied</source><translation>满意</translation></message>
    <message><source>Neutral</source><translation>一般</translation></message>
    <message><source>Dissatisfied</source><translation>不满意</translation></message>
    <message><source>Very dissatisfied</source><translation>非常不满意</translation></message>
    <message><source>How would you rate: access to the service?</source><translation>您如何评价：获取服务的便利程度？</translation></message>
    <message><source>How would you rate: the administrative procedure?</source><translation>您如何评价：行政手续？</translation></message>
    <message><source>How would you rate: the officer who handled it?</source><translation>您如何评价：办理业务的工作人员？</translation></message>
    <message><source>How would you rate: the result?</source><translation>您如何评价：办理结果？</translation></message>
    <message><source>How would you rate: handling of feedback and complaints?</source><translation>您如何评价：意见和投诉的处理？</translation></message>
    <message><source>The officer was rude or unhelpful</source><translation>工作人员态度不好</translation></message>
    <message><source>Asked for papers not in the rules</source><translation>要求提供规定以外的材料</translation></message>
    <message><source>Had to come back many times</source><translation>需要多次往返</translation></message>
    <message><source>The result was late</source><translation>结果逾期</translation></message>
    <message><source>The result had errors</source><translation>结果有错误</translation></message>
    <message><source>Information was hard to find</source><translation>手续信息难以查找</translation></message>
    <message><source>The waiting place is uncomfortable</source><translation>等候场所不方便</translation></message>
    <message><source>A complaint was not answered</source><translation>意见建议未得到答复</translation></message>
    <message><source>Are you still rating? Touch the screen to continue.</source><translation>您还在评价吗？请触摸屏幕继续。</translation></message>
    <message><source>A+ Large text</source><translation>A+ 大字体</translation></message>
    <message><source>◐ High contrast</source><translation>◐ 高对比度</translation></message>
    <message><source>♪ Listen</source><translation>♪ 语音提示</translation></message>
    <message><source>Was it easy to find information, and was there somewhere to sit and wait?</source><translation>信息容易找到吗？有地方坐着等候吗？</translation></message>
    <message><source>Were the papers you had to bring simple and easy to understand?</source><translation>需要提交的材料简单易懂吗？</translation></message>
    <message><source>Was the officer polite, and did they explain clearly?</source><translation>工作人员有礼貌吗？讲解清楚吗？</translation></message>
    <message><source>Was the result on time and what you needed?</source><translation>结果按时吗？符合您的需要吗？</translation></message>
    <message><source>If you made a suggestion or complaint, was it answered well?</source><translation>如果您提过意见或投诉，是否得到了满意的答复？</translation></message>
    <message><source>Does not apply</source><translation>不适用</translation></message>
    <message><source>5 more short questions — you may skip</source><translation>还有5个简短问题——可以跳过</translation></message>
    <message><source>To help the office serve you better. Each takes one tap on a face.</source><translation>帮助本机关改进服务。每题只需点一下表情。</translation></message>
    <message><source>Answer</source><translation>回答</translation></message>
    <message><source>Skip them all</source><translation>全部跳过</translation></message>
    <message><source>Skip this question</source><translation>跳过此题</translation></message>
    <message><source>Question 1 of 5</source><translation>第1题，共5题</translation></message>
    <message><source>Question 2 of 5</source><translation>第2题，共5题</translation></message>
    <message><source>Question 3 of 5</source><translation>第3题，共5题</translation></message>
    <message><source>Question 4 of 5</source><translation>第4题，共5题</translation></message>
    <message><source>Question 5 of 5</source><translation>第5题，共5题</translation></message>
</context>
</TS>
